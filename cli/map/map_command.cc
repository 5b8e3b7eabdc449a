// map_command.cc: option parsing (glibc getopt_long, as qemu-img), the chain
// session, and rendering of the extents core reports.
#include "cli/map/map_command.h"

#include <getopt.h>

#include <cstdio>
#include <optional>

#include "cli/chain/chain_session.h"
#include "cli/map/map_entries.h"
#include "cli/map/map_render.h"
#include "cli/getopt_args.h"
#include "cli/object_option.h"
#include "cli/size_option.h"
#include "core/ops/info_record.h"
#include "core/ops/map_record.h"

namespace instar::cli {

namespace {

enum LongOnly { kOptOutput = 256, kOptObject, kOptImageOpts, kOptStartOffset, kOptMaxLength };

struct MapOptions {
  std::optional<std::string> format;
  std::string output = "human";
  bool image_opts = false;
  int64_t start = 0;
  std::optional<int64_t> max_length;
  std::string filename;
};

std::optional<MapOptions> parse_options(const Program& program, const std::vector<std::string>& args,
                                        int& status) {
  GetoptArgs getopt_args(program, "map", args);
  bool modern = getopt_args.modern();
  char** argv = getopt_args.argv();
  static const struct option kLongOptions[] = {
      {"help", no_argument, nullptr, 'h'},
      {"format", required_argument, nullptr, 'f'},
      {"output", required_argument, nullptr, kOptOutput},
      {"object", required_argument, nullptr, kOptObject},
      {"image-opts", no_argument, nullptr, kOptImageOpts},
      {"start-offset", required_argument, nullptr, kOptStartOffset},
      {"max-length", required_argument, nullptr, kOptMaxLength},
      {"force-share", no_argument, nullptr, 'U'},
      {nullptr, 0, nullptr, 0},
  };
  MapOptions opts;
  std::optional<std::string> output;
  const std::string shortopts = getopt_args.shortopts("hf:U");
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
            "usage: %s map [-f FMT] [--output=human|json] [--start-offset=OFFSET] [--max-length=LEN]\n"
            "       [-U|--force-share] [--object OBJDEF] [--qemu-version X.Y] FILENAME\n"
            "Dump the allocation map of a disk image, as qemu-img map does.\n",
            program.name.c_str());
        status = 0;
        return std::nullopt;
      case 'f':
        opts.format = optarg;
        break;
      case 'U':
        break;  // instar never takes image locks; sharing is implied
      case kOptOutput:
        if (modern && std::string(optarg) != "human" && std::string(optarg) != "json") {
          usage_error(program, "map", "--output expects 'human' or 'json' not '" + std::string(optarg) + "'");
          return std::nullopt;
        }
        output = optarg;
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
      case kOptStartOffset: {
        auto v = cvtnum(program, "start offset", optarg);
        if (!v) return std::nullopt;
        opts.start = *v;
        break;
      }
      case kOptMaxLength: {
        auto v = cvtnum(program, "max length", optarg);
        if (!v) return std::nullopt;
        opts.max_length = *v;
        break;
      }
      default:
        return std::nullopt;
    }
  }
  if (optind != argc - 1) {
    usage_error(program, "map", "Expecting one image file name");
    return std::nullopt;
  }
  opts.filename = argv[optind];
  if (output) {
    if (*output != "human" && *output != "json") {
      report_error(program, "--output must be used with human or json as argument.");
      return std::nullopt;
    }
    opts.output = *output;
  }
  status = 0;
  return opts;
}

}  // namespace

int map_command(const Program& program, const std::vector<std::string>& args) {
  int status = 1;
  auto opts = parse_options(program, args, status);
  if (!opts) return status;
  if (opts->image_opts) {
    report_error(program, "--image-opts is not supported by instar (see docs/divergences.md)");
    return 1;
  }
  Request request;
  request.operation = Operation::map;
  if (opts->format) {
    ImageFormat f;
    if (!image_format_from_name(opts->format->c_str(), f)) {
      // qemu-img looks the driver up as it opens the image, so the message names the file.
      report_error(program, "Could not open '" + opts->filename + "': Unknown driver '" + *opts->format + "'");
      return 1;
    }
    request.format_given = true;
    request.format = f;
  }
  set_name_tail(request, opts->filename);
  request.qemu_major = static_cast<uint16_t>(program.profile.major);
  request.qemu_minor = static_cast<uint16_t>(program.profile.minor);
  request.map.start = static_cast<uint64_t>(opts->start);
  if (opts->max_length) {
    request.map.has_max_length = true;
    request.map.max_length = static_cast<uint64_t>(*opts->max_length);
  }
  auto session = run_chain_session(program, request, opts->filename);
  if (!session) return 1;
  const RecordField& root = session->record.root;
  if (session->record.operation != static_cast<uint16_t>(Operation::map)) {
    report_error(program, "sandbox: the result record is not a map record");
    return 1;
  }
  auto entries = decode_map_entries(root);
  if (entries.is_error()) {
    report_error(program, std::string("sandbox: ") + entries.error().message);
    return 1;
  }
  auto message = record_error_message(root);
  bool had_layers = root.find(kTagLayer) != nullptr;
  if (message && !had_layers) {
    // The open failed: qemu-img names the image.
    report_error(program, "Could not open '" + opts->filename + "': " + *message);
    return 1;
  }
  std::string stop;
  if (opts->output == "json") {
    render_map_json(entries.value(), !message, program.profile, stdout);
  } else {
    render_map_human(entries.value(), session->names, stdout, stop);
  }
  std::fflush(stdout);
  if (!stop.empty()) {
    report_error(program, stop);
    return 1;
  }
  if (message) {
    report_error(program, "Could not read file metadata: " + *message);
    return 1;
  }
  return 0;
}

}  // namespace instar::cli
