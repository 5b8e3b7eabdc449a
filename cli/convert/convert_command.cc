// convert_command.cc: qemu-img convert's options and checks in its order, the
// chain session with an output, and the messages of a raw conversion.
#include "cli/convert/convert_command.h"

#include <getopt.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <optional>

#include "cli/cache_mode.h"
#include "cli/chain/chain_session.h"
#include "cli/getopt_args.h"
#include "cli/image_opts.h"
#include "cli/object_option.h"
#include "cli/progress/progress_lines.h"
#include "cli/size_option.h"
#include "core/ops/convert_record.h"
#include "core/ops/info_record.h"

namespace instar::cli {

namespace {

enum LongOnly { kOptObject = 256, kOptImageOpts, kOptTargetImageOpts, kOptSalvage, kOptTargetIsZero, kOptBitmaps,
                kOptSkipBrokenBitmaps };

constexpr int64_t kMaxBufBytes = 32768 * 512;  // qemu-img's MAX_BUF_SECTORS
constexpr long kMaxCoroutines = 16;

struct ConvertOptions {
  std::optional<std::string> format;
  std::string out_format = "raw";
  int64_t min_sparse = 4096;
  bool progress = false, quiet = false, skip_create = false, compress = false, target_is_zero = false;
  bool image_opts = false, target_image_opts = false, copy_range = false;
  bool salvage = false, bitmaps = false, skip_broken_bitmaps = false;
  uint8_t coroutines = 8;  // -m: only -p's lines after a failed read depend on it
  bool in_order = true;    // not -W
  std::optional<std::string> backing_format;
  std::optional<std::string> options, backing, snapshot;
  std::string cache = "unsafe", src_cache = "writeback";  // -t, -T: checked, no effect on the result
  std::vector<std::string> sources;
  std::string target;
};

std::optional<ConvertOptions> parse_options(const Program& program, const std::vector<std::string>& args,
                                            int& status) {
  GetoptArgs getopt_args(program, "convert", args);
  char** argv = getopt_args.argv();
  static const struct option kLongOptions[] = {
      {"help", no_argument, nullptr, 'h'},
      {"object", required_argument, nullptr, kOptObject},
      {"image-opts", no_argument, nullptr, kOptImageOpts},
      {"target-image-opts", no_argument, nullptr, kOptTargetImageOpts},
      {"salvage", no_argument, nullptr, kOptSalvage},
      {"target-is-zero", no_argument, nullptr, kOptTargetIsZero},
      {"bitmaps", no_argument, nullptr, kOptBitmaps},
      {"skip-broken-bitmaps", no_argument, nullptr, kOptSkipBrokenBitmaps},
      {"force-share", no_argument, nullptr, 'U'},
      {nullptr, 0, nullptr, 0},
  };
  ConvertOptions o;
  const std::string shortopts = getopt_args.shortopts("hf:O:B:CcF:o:l:S:pt:T:qnm:WUr:");
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
            "usage: %s convert [-f FMT] [-O raw] [-S SPARSE] [-n] [-p] [-q] [-U] [-m N] [-W]\n"
            "       [--target-is-zero] [--qemu-version X.Y] FILENAME OUTPUT\n"
            "Convert a disk image to a raw file, as qemu-img convert does.\n",
            program.name.c_str());
        status = 0;
        return std::nullopt;
      case 'f':
        o.format = optarg;
        break;
      case 'O':
        o.out_format = optarg;
        break;
      case 'B':
        o.backing = optarg;
        break;
      case 'F':
        o.backing_format = optarg;
        break;
      case 'C':
        o.copy_range = true;
        break;
      case 'c':
        o.compress = true;
        break;
      case 'o':
        o.options = o.options ? *o.options + "," + optarg : std::string(optarg);
        break;
      case 'l':
        o.snapshot = optarg;
        break;
      case 'S': {
        auto v = cvtnum(program, "buffer size for sparse output", optarg);
        if (!v) return std::nullopt;
        if (*v % 512 != 0 || *v > kMaxBufBytes) {
          report_error(program,
                       "Invalid buffer size for sparse output specified. Valid sizes are multiples of 512 up to "
                       "16777216. Select 0 to disable sparse detection (fully allocates output).");
          return std::nullopt;
        }
        o.min_sparse = *v;
        break;
      }
      case 'p':
        o.progress = true;
        break;
      case 't':
        o.cache = optarg;
        break;
      case 'T':
        o.src_cache = optarg;
        break;
      case 'r':
        break;  // rate limits do not change the result
      case 'q':
        o.quiet = true;
        break;
      case 'n':
        o.skip_create = true;
        break;
      case 'm': {
        char* end = nullptr;
        errno = 0;
        long n = std::strtol(optarg, &end, 0);
        bool number = errno == 0 && end != optarg && *end == '\0';
        if (!number || n < 1 || n > kMaxCoroutines) {
          if (program.profile.major < 8) {
            report_error(program, "Invalid number of coroutines. Allowed number of coroutines is between 1 and 16");
          } else if (!number) {
            report_error(program, "Invalid number of coroutines specified: '" + std::string(optarg) + "'.");
          } else {
            report_error(program, "Invalid number of coroutines specified. Must be between 1 and 16.");
          }
          return std::nullopt;
        }
        o.coroutines = static_cast<uint8_t>(n);
        break;
      }
      case 'W':
        o.in_order = false;
        break;
      case 'U':
        break;
      case kOptObject:
        if (auto error = check_object_option(optarg)) {
          report_error(program, *error);
          return std::nullopt;
        }
        break;
      case kOptImageOpts:
        o.image_opts = true;
        break;
      case kOptTargetImageOpts:
        o.target_image_opts = true;
        break;
      case kOptTargetIsZero:
        o.target_is_zero = true;
        break;
      case kOptSalvage:
        o.salvage = true;
        break;
      case kOptBitmaps:
        o.bitmaps = true;
        break;
      case kOptSkipBrokenBitmaps:
        o.skip_broken_bitmaps = true;
        break;
      default:
        return std::nullopt;
    }
  }
  if (o.quiet) o.progress = false;
  if (o.skip_broken_bitmaps && !o.bitmaps) {
    report_error(program, "Use of --skip-broken-bitmaps requires --bitmaps");
    return std::nullopt;
  }
  if (o.salvage && o.copy_range) {
    report_error(program, "Cannot use copy offloading in salvaging mode");
    return std::nullopt;
  }
  if (o.target_image_opts && !o.skip_create) {
    report_error(program, "--target-image-opts requires use of -n flag");
    return std::nullopt;
  }
  if (o.skip_create && o.options) {
    report_error(program, "-o has no effect when skipping image creation");
    return std::nullopt;
  }
  if (o.target_is_zero && !o.skip_create) {
    report_error(program, "--target-is-zero requires use of -n flag");
    return std::nullopt;
  }
  int sources = argc - optind - 1;
  if (sources < 1) {
    report_error(program, "Must specify image file name");
    return std::nullopt;
  }
  // qemu checks -T before it starts the progress meter or opens anything.
  if (!valid_cache_mode(o.src_cache)) {
    report_error(program, "Invalid source cache option: " + o.src_cache);
    return std::nullopt;
  }
  for (int i = optind; i < argc - 1; i++) o.sources.push_back(argv[i]);
  o.target = argv[argc - 1];
  status = 0;
  return o;
}

// Opens the source chain and reads nothing, as qemu does before it refuses
// something about the target; false once the open's error is printed.
bool open_source_only(const Program& program, const Request& request, const std::string& source, bool direct) {
  Request probe = request;
  probe.operation = Operation::map;
  probe.map.has_max_length = true;
  probe.map.max_length = 0;
  return run_chain_session(program, probe, source, std::nullopt, std::nullopt, direct).has_value();
}

}  // namespace

int convert_command(const Program& program, const std::vector<std::string>& args) {
  int status = 1;
  auto opts = parse_options(program, args, status);
  if (!opts) return status;
  // qemu-img starts its progress meter here, before opening anything: its
  // first line, and the newline that ends the meter on every way out.
  ProgressEnd progress_end(opts->progress);
  if (opts->progress) {
    std::fputs(progress_start_line().c_str(), stdout);
    std::fflush(stdout);
  }
  auto refuse = [&](const std::string& what) {
    report_error(program, what + " is not supported by instar yet (see docs/convert.md)");
    return 1;
  };
  if (opts->image_opts) {
    // qemu opens the first source first: an option string it fails on before choosing a driver.
    if (auto error = image_opts_open_error(opts->sources[0])) {
      report_error(program, "Could not open '" + opts->sources[0] + "': " + *error);
      return 1;
    }
  }
  if (opts->image_opts || opts->target_image_opts) return refuse("--image-opts");
  if (opts->sources.size() != 1) return refuse("converting several source images");
  ImageFormat out_driver;
  bool known_format = image_format_from_name(opts->out_format.c_str(), out_driver) || opts->out_format == "luks";
  if (known_format && opts->out_format != "raw") return refuse("-O " + opts->out_format);
  if (opts->copy_range) return refuse("-C (copy offloading changes where the target has holes)");
  if (opts->backing) return refuse("-B");
  if (opts->snapshot) return refuse("-l");
  if (opts->options) return refuse("-o");
  Request request;
  request.operation = Operation::convert;
  const std::string& source = opts->sources[0];
  if (opts->format) {
    ImageFormat f;
    if (!image_format_from_name(opts->format->c_str(), f)) {
      report_error(program, "Could not open '" + source + "': Unknown driver '" + *opts->format + "'");
      return 1;
    }
    request.format_given = true;
    request.format = f;
  }
  set_name_tail(request, source);
  request.qemu_major = static_cast<uint16_t>(program.profile.major);
  request.qemu_minor = static_cast<uint16_t>(program.profile.minor);
  request.convert.min_sparse = static_cast<uint64_t>(opts->min_sparse);
  request.convert.skip_create = opts->skip_create;
  request.convert.target_is_zero = opts->target_is_zero;
  request.convert.progress = opts->progress;
  request.convert.coroutines = opts->coroutines;
  request.convert.in_order = opts->in_order;
  const bool direct = direct_cache_mode(opts->src_cache);  // qemu opens the source chain with O_DIRECT
  if (opts->skip_create) {
    // With -n qemu-img checks -t once the source opened, then opens the target (its driver, then
    // the file), then refuses --bitmaps (below), then -c; -F means nothing without a creation.
    if (!valid_cache_mode(opts->cache) || !known_format) {
      if (!open_source_only(program, request, source, direct)) return 1;
      if (!valid_cache_mode(opts->cache)) {
        report_error(program, "Invalid cache option: " + opts->cache);
      } else {
        report_error(program, "Could not open '" + opts->target + "': Unknown driver '" + opts->out_format + "'");
      }
      return 1;
    }
    if (opts->compress && !opts->bitmaps) {
      Request open = request;
      open.convert.create_only = true;
      if (!run_chain_session(program, open, source, OutputSpec{opts->target, true}, std::nullopt, direct)) return 1;
      report_error(program, "Compression not supported for this file format");
      return 1;
    }
  } else {
    // Checks qemu makes of the target once the source opened, before it creates the target.
    std::optional<std::string> after_open;
    if (!known_format) {
      after_open = "Unknown file format '" + opts->out_format + "'";
    } else if (opts->compress) {
      after_open = "Compression not supported for this file format";
    } else if (opts->backing_format) {
      after_open = "Backing file format not supported for file format 'raw'";
    }
    if (after_open) {
      if (!open_source_only(program, request, source, direct)) return 1;
      report_error(program, *after_open);
      return 1;
    }
    if (!valid_cache_mode(opts->cache)) {
      // qemu checks -t once the target is created.
      Request create = request;
      create.convert.create_only = true;
      if (!run_chain_session(program, create, source, OutputSpec{opts->target, false}, std::nullopt, direct)) return 1;
      report_error(program, "Invalid cache option: " + opts->cache);
      return 1;
    }
  }
  if (opts->bitmaps) {
    // qemu creates the target, then finds raw cannot hold bitmaps.
    Request create = request;
    create.convert.create_only = true;
    if (!run_chain_session(program, create, source, OutputSpec{opts->target, opts->skip_create}, std::nullopt, direct))
      return 1;
    report_error(program, "Format driver 'raw' does not support bitmaps");
    return 1;
  }
  auto session =
      run_chain_session(program, request, source, OutputSpec{opts->target, opts->skip_create}, std::nullopt, direct);
  if (!session) return 1;
  const RecordField& root = session->record.root;
  if (opts->progress) {
    auto lines = decode_progress(root);
    if (lines.is_error()) {
      report_error(program, std::string("sandbox: ") + lines.error().message);
      return 1;
    }
    print_progress(lines.value(), 0, lines.value().total, stdout);
  }
  if (auto message = record_error_message(root)) {
    if (root.find(kTagLayer) == nullptr) {
      report_error(program, "Could not open '" + source + "': " + *message);
    } else {
      // qemu-img names the block status query that failed, or the start of the chunk it was reading.
      if (auto status_at = root.u64_of(kConvertStatusFailedOffset)) {
        report_error(program,
                     "error while reading block status at offset " + std::to_string(*status_at) + ": " + *message);
      } else {
        uint64_t at = root.u64_of(kConvertFailedOffset).value_or(0);
        report_error(program, "error while reading at byte " + std::to_string(at) + ": " + *message);
      }
    }
    return 1;
  }
  return 0;
}

}  // namespace instar::cli
