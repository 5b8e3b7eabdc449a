// compare_command.cc: option parsing (glibc getopt_long, as qemu-img), one
// chain session over both images (the second attached on core's request), and
// qemu-img compare's messages and exit statuses.
#include "cli/compare/compare_command.h"

#include <getopt.h>

#include <cstdio>
#include <optional>

#include "cli/cache_mode.h"
#include "cli/chain/chain_session.h"
#include "cli/getopt_args.h"
#include "cli/image_opts.h"
#include "cli/object_option.h"
#include "cli/progress/progress_lines.h"
#include "core/ops/compare_record.h"
#include "core/ops/info_record.h"

namespace instar::cli {

namespace {

enum LongOnly { kOptObject = 256, kOptImageOpts };

struct CompareOptions {
  std::optional<std::string> format1, format2;
  std::string cache = "writeback";
  bool progress = false;
  bool quiet = false;
  bool strict = false;
  bool image_opts = false;
  std::string filename1, filename2;
};

std::optional<CompareOptions> parse_options(const Program& program, const std::vector<std::string>& args,
                                            int& status) {
  GetoptArgs getopt_args(program, "compare", args);
  char** argv = getopt_args.argv();
  static const struct option kLongOptions[] = {
      {"help", no_argument, nullptr, 'h'},
      {"object", required_argument, nullptr, kOptObject},
      {"image-opts", no_argument, nullptr, kOptImageOpts},
      {"force-share", no_argument, nullptr, 'U'},
      {nullptr, 0, nullptr, 0},
  };
  CompareOptions opts;
  const std::string shortopts = getopt_args.shortopts("hf:F:T:pqsU");
  int argc = getopt_args.argc();
  status = 1;
  for (;;) {
    int c = getopt_long(argc, argv, shortopts.c_str(), kLongOptions, nullptr);
    if (c == -1) break;
    switch (c) {
      case '?':
      case ':':
        getopt_args.report_failure(c);
        return std::nullopt;
      case 'h':
        // instar prints its own usage rather than qemu-img's (docs/divergences.md#help-text).
        std::printf(
            "usage: %s compare [-f FMT] [-F FMT] [-T SRC_CACHE] [-q] [-s] [-U|--force-share]\n"
            "       [--object OBJDEF] [--qemu-version X.Y] FILENAME1 FILENAME2\n"
            "Check whether two images have the same content, as qemu-img compare does.\n",
            program.name.c_str());
        status = 0;
        return std::nullopt;
      case 'f':
        opts.format1 = optarg;
        break;
      case 'F':
        opts.format2 = optarg;
        break;
      case 'T':
        opts.cache = optarg;
        break;
      case 'p':
        opts.progress = true;
        break;
      case 'q':
        opts.quiet = true;
        break;
      case 's':
        opts.strict = true;
        break;
      case 'U':
        break;  // instar never takes image locks; sharing is implied
      case kOptObject:
        if (auto error = check_object_option(optarg)) {
          report_error(program, *error);
          status = 2;
          return std::nullopt;
        }
        break;
      case kOptImageOpts:
        opts.image_opts = true;
        break;
      default:
        return std::nullopt;
    }
  }
  if (opts.quiet) opts.progress = false;  // quiet mode shows no progress
  if (optind != argc - 2) {
    usage_error(program, "compare", "Expecting two image file names");
    return std::nullopt;
  }
  opts.filename1 = argv[optind];
  opts.filename2 = argv[optind + 1];
  status = 0;
  return opts;
}

}  // namespace

int compare_command(const Program& program, const std::vector<std::string>& args) {
  int status = 1;
  auto opts = parse_options(program, args, status);
  if (!opts) return status;
  // qemu-img starts its progress meter here (no line yet: the first, 0%, comes
  // once both images opened); it ends with a newline on every way out.
  ProgressEnd progress_end(opts->progress);
  if (!valid_cache_mode(opts->cache)) {
    report_error(program, "Invalid source cache option: " + opts->cache);
    return 2;
  }
  if (opts->image_opts) {
    // qemu opens the first image first: an option string it fails on before choosing a driver.
    if (auto error = image_opts_open_error(opts->filename1)) {
      report_error(program, "Could not open '" + opts->filename1 + "': " + *error);
      return 2;
    }
    report_error(program, "--image-opts is not supported by instar (see docs/divergences.md)");
    return 2;
  }
  Request request;
  request.operation = Operation::compare;
  if (opts->format1) {
    ImageFormat f;
    if (!image_format_from_name(opts->format1->c_str(), f)) {
      report_error(program, "Could not open '" + opts->filename1 + "': Unknown driver '" + *opts->format1 + "'");
      return 2;
    }
    request.format_given = true;
    request.format = f;
  }
  SecondImage second;
  second.path = opts->filename2;
  if (opts->format2) {
    ImageFormat f;
    if (image_format_from_name(opts->format2->c_str(), f)) {
      request.format2_given = true;
      request.format2 = f;
    } else {
      second.refusal = "Unknown driver '" + *opts->format2 + "'";
    }
  }
  set_name_tail(request, opts->filename1);
  {
    std::string tail = opts->filename2;
    if (tail.size() >= sizeof request.name_tail2) tail = tail.substr(tail.size() - (sizeof request.name_tail2 - 1));
    for (size_t i = 0; i < tail.size(); i++) request.name_tail2[i] = tail[i];
    request.name_tail2[tail.size()] = '\0';
  }
  request.qemu_major = static_cast<uint16_t>(program.profile.major);
  request.qemu_minor = static_cast<uint16_t>(program.profile.minor);
  request.compare.strict = opts->strict;
  request.compare.progress = opts->progress;
  auto session =
      run_chain_session(program, request, opts->filename1, std::nullopt, second, direct_cache_mode(opts->cache));
  if (!session) return 2;
  const RecordField& root = session->record.root;
  if (session->record.operation != static_cast<uint16_t>(Operation::compare)) {
    report_error(program, "sandbox: the result record is not a compare record");
    return 2;
  }
  auto message = record_error_message(root);
  if (root.find(kCompareOpened2) == nullptr) {
    // One of the opens failed: qemu-img names that image.
    const std::string& name = root.find(kCompareOpened1) == nullptr ? opts->filename1 : opts->filename2;
    report_error(program, "Could not open '" + name + "': " + message.value_or("sandbox: no result"));
    return 2;
  }
  auto quiet_print = [&](const std::string& line) {
    if (opts->quiet) return;
    std::fwrite(line.data(), 1, line.size(), stdout);
    std::fflush(stdout);
  };
  auto result = root.u64_of(kCompareResult);
  if (!result) {
    report_error(program, message.value_or("sandbox: the compare record has no result"));
    return 2;
  }
  ProgressLines lines;
  if (opts->progress) {
    auto decoded = decode_progress(root);
    if (decoded.is_error()) {
      report_error(program, std::string("sandbox: ") + decoded.error().message);
      return 2;
    }
    lines = std::move(decoded.value());
  }
  // The lines before "Warning: Image size mismatch!" (all of them when there is no warning).
  uint64_t split = lines.total;
  if (root.find(kCompareSizeWarning) != nullptr && opts->progress) {
    auto before = root.u64_of(kCompareLinesBeforeWarning);
    if (!before || *before > lines.total) {
      report_error(program, "sandbox: the compare record's progress split is out of range");
      return 2;
    }
    split = *before;
  }
  print_progress(lines, 0, split, stdout);
  uint64_t offset = root.u64_of(kCompareOffset).value_or(0);
  const std::string& failed_name = root.u64_of(kCompareImage).value_or(1) == 2 ? opts->filename2 : opts->filename1;
  if (root.find(kCompareSizeWarning) != nullptr) quiet_print("Warning: Image size mismatch!\n");
  print_progress(lines, split, lines.total, stdout);
  switch (static_cast<CompareResult>(*result)) {
    case CompareResult::identical:
      quiet_print("Images are identical.\n");
      return 0;
    case CompareResult::content_mismatch:
      quiet_print("Content mismatch at offset " + std::to_string(offset) + "!\n");
      return 1;
    case CompareResult::status_mismatch:
      quiet_print("Strict mode: Offset " + std::to_string(offset) + " block status mismatch!\n");
      return 1;
    case CompareResult::size_mismatch:
      quiet_print("Strict mode: Image size mismatch!\n");
      return 1;
    case CompareResult::status_failed:
      report_error(program, "Sector allocation test failed for " + failed_name);
      return 3;
    case CompareResult::read_failed:
      report_error(program, "Error while reading offset " + std::to_string(offset) + " of " + failed_name + ": " +
                                message.value_or("Input/output error"));
      return 4;
  }
  report_error(program, "sandbox: unknown compare result");
  return 2;
}

}  // namespace instar::cli
