// info_command.cc: option parsing (glibc getopt_long, as qemu-img), opening the
// chain on the host, running core/ for each image, rendering.
#include "cli/info/info_command.h"

#include <getopt.h>

#include <cstdio>
#include <optional>
#include <set>

#include "cli/chain/chain_session.h"
#include "cli/info/backing_path.h"
#include "cli/info/image_report.h"
#include "cli/info/info_render.h"
#include "cli/io/open_image.h"
#include "cli/getopt_args.h"
#include "cli/object_option.h"
#include "cli/sandbox/sandbox.h"

namespace instar::cli {

namespace {

enum LongOnly { kOptOutput = 256, kOptBackingChain, kOptObject, kOptImageOpts };

struct InfoOptions {
  std::optional<std::string> format;
  std::optional<std::string> output;
  bool backing_chain = false;
  bool image_opts = false;
  std::string filename;
};

// Returns nullopt after printing the error; `status` is the exit status then.
std::optional<InfoOptions> parse_options(const Program& program, const std::vector<std::string>& args,
                                         int& status) {
  GetoptArgs getopt_args(program, "info", args);
  bool modern = getopt_args.modern();
  char** argv = getopt_args.argv();
  static const struct option kLongOptions[] = {
      {"help", no_argument, nullptr, 'h'},
      {"format", required_argument, nullptr, 'f'},
      {"output", required_argument, nullptr, kOptOutput},
      {"backing-chain", no_argument, nullptr, kOptBackingChain},
      {"object", required_argument, nullptr, kOptObject},
      {"image-opts", no_argument, nullptr, kOptImageOpts},
      {"force-share", no_argument, nullptr, 'U'},
      {nullptr, 0, nullptr, 0},
  };
  InfoOptions opts;
  const std::string shortopts = getopt_args.shortopts("hf:bU", "f:hU");
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
            "usage: %s info [-f FMT] [--output=human|json] [--backing-chain] [-U|--force-share]\n"
            "       [--object OBJDEF] [--qemu-version X.Y] FILENAME\n"
            "Display information about a disk image, as qemu-img info does.\n",
            program.name.c_str());
        status = 0;
        return std::nullopt;
      case 'f':
        opts.format = optarg;
        break;
      case 'b':
      case kOptBackingChain:
        opts.backing_chain = true;
        break;
      case 'U':
        break;  // instar never takes image locks; sharing is implied
      case kOptOutput:
        if (modern && std::string(optarg) != "human" && std::string(optarg) != "json") {
          usage_error(program, "info",
                      "--output expects 'human' or 'json' not '" + std::string(optarg) + "'");
          return std::nullopt;
        }
        opts.output = optarg;
        break;
      case kOptObject:
        if (auto error = check_object_option(optarg)) {
          report_error(program, *error);
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
  if (optind != argc - 1) {
    usage_error(program, "info", "Expecting one image file name");
    return std::nullopt;
  }
  opts.filename = argv[optind];
  if (opts.output && *opts.output != "human" && *opts.output != "json") {
    report_error(program, "--output must be used with human or json as argument.");
    return std::nullopt;
  }
  status = 0;
  return opts;
}

// Opens and reports one image; prints the error and returns nullopt on failure.
std::optional<ImageReport> inspect_image(const Program& program, const std::string& filename,
                                         const std::optional<std::string>& format) {
  auto fail = [&](const std::string& why) {
    report_error(program, "Could not open '" + filename + "': " + why);
    return std::nullopt;
  };
  Request request;
  request.operation = Operation::info;
  if (format) {
    ImageFormat f;
    if (!image_format_from_name(format->c_str(), f)) return fail("Unknown driver '" + *format + "'");
    request.format_given = true;
    request.format = f;
  }
  set_name_tail(request, filename);
  request.qemu_major = static_cast<uint16_t>(program.profile.major);
  request.qemu_minor = static_cast<uint16_t>(program.profile.minor);
  std::string open_error;
  auto image = open_image_readonly(filename, open_error);
  if (!image) return fail(open_error);
  HostDevices devices;
  devices.image = image->device.get();
  auto record = run_sandboxed(program.sandbox, request, devices);
  if (record.is_error()) return fail(record.error().message);
  ImageReport report;
  std::optional<RecordError> error;
  auto filled = report_from_record(record.value(), report, error);
  if (filled.is_error()) return fail(filled.error().message);
  if (error) return fail(error->message);
  report.filename = filename;
  report.actual_size = image->allocated;
  report.file_length = image->length;
  if (report.backing_name) report.full_backing_name = combine_backing_path(filename, *report.backing_name);
  for (const auto& w : report.warnings)
    std::fprintf(stderr, "%s: warning: %s\n", program.name.c_str(), w.c_str());
  return report;
}

}  // namespace

int info_command(const Program& program, const std::vector<std::string>& args) {
  int status = 1;
  auto opts = parse_options(program, args, status);
  if (!opts) return status;
  if (opts->image_opts) {
    report_error(program, "--image-opts is not supported by instar (see docs/divergences.md)");
    return 1;
  }
  std::vector<ImageReport> chain;
  std::set<std::string> seen;
  std::string filename = opts->filename;
  std::optional<std::string> format = opts->format;
  for (;;) {
    if (!seen.insert(filename).second) {
      report_error(program, "Backing file '" + filename + "' creates an infinite loop.");
      return 1;
    }
    auto report = inspect_image(program, filename, format);
    if (!report) return 1;
    chain.push_back(std::move(*report));
    const ImageReport& last = chain.back();
    if (!opts->backing_chain || !last.backing_name) break;
    filename = *last.full_backing_name;
    format = last.backing_format;
  }
  bool json = opts->output && *opts->output == "json";
  std::string text = json ? render_info_json(chain, opts->backing_chain, program.profile)
                          : render_info_human_chain(chain, program.profile);
  std::fwrite(text.data(), 1, text.size(), stdout);
  return 0;
}

}  // namespace instar::cli
