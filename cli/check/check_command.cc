// check_command.cc: option parsing (glibc getopt_long, as qemu-img), opening
// the image and what qemu opens with it, running core/'s check, printing.
#include "cli/check/check_command.h"

#include <getopt.h>

#include <cstdio>
#include <cstring>
#include <optional>
#include <set>

#include "cli/check/check_report.h"
#include "cli/info/backing_path.h"
#include "cli/info/image_report.h"
#include "cli/io/open_image.h"
#include "cli/getopt_args.h"
#include "cli/object_option.h"
#include "cli/sandbox/sandbox.h"

namespace instar::cli {

namespace {

enum LongOnly { kOptOutput = 256, kOptObject, kOptImageOpts };

struct CheckOptions {
  std::optional<std::string> format;
  std::optional<std::string> output;
  std::optional<std::string> cache;
  bool repair = false;
  bool quiet = false;
  bool image_opts = false;
  std::string filename;
};

bool valid_cache_mode(const std::string& mode) {
  for (const char* m : {"none", "off", "writeback", "writethrough", "directsync", "unsafe"})
    if (mode == m) return true;
  return false;
}

// Returns nullopt after printing the error; `status` is the exit status then.
std::optional<CheckOptions> parse_options(const Program& program, const std::vector<std::string>& args,
                                          int& status) {
  GetoptArgs getopt_args(program, "check", args);
  bool modern = getopt_args.modern();
  char** argv = getopt_args.argv();
  // 10.0 added long names for -q and -T.
  static const struct option kLongOptions72[] = {
      {"help", no_argument, nullptr, 'h'},
      {"format", required_argument, nullptr, 'f'},
      {"repair", required_argument, nullptr, 'r'},
      {"output", required_argument, nullptr, kOptOutput},
      {"object", required_argument, nullptr, kOptObject},
      {"image-opts", no_argument, nullptr, kOptImageOpts},
      {"force-share", no_argument, nullptr, 'U'},
      {nullptr, 0, nullptr, 0},
  };
  static const struct option kLongOptions100[] = {
      {"help", no_argument, nullptr, 'h'},
      {"format", required_argument, nullptr, 'f'},
      {"image-opts", no_argument, nullptr, kOptImageOpts},
      {"cache", required_argument, nullptr, 'T'},
      {"repair", required_argument, nullptr, 'r'},
      {"output", required_argument, nullptr, kOptOutput},
      {"quiet", no_argument, nullptr, 'q'},
      {"object", required_argument, nullptr, kOptObject},
      {"force-share", no_argument, nullptr, 'U'},
      {nullptr, 0, nullptr, 0},
  };
  CheckOptions opts;
  const std::string shortopts = getopt_args.shortopts("hf:r:T:qU");
  int argc = getopt_args.argc();
  status = 1;
  for (;;) {
    int c = getopt_long(argc, argv, shortopts.c_str(), modern ? kLongOptions100 : kLongOptions72, nullptr);
    if (c == -1) break;
    switch (c) {
      case '?':
      case ':':
        getopt_args.report_failure(c);
        return std::nullopt;
      case 'h':
        // instar prints its own usage rather than qemu-img's (docs/divergences.md#help-text).
        std::printf(
            "usage: %s check [-f FMT] [--output=human|json] [-q] [-T CACHE] [-U|--force-share]\n"
            "       [--object OBJDEF] [--qemu-version X.Y] FILENAME\n"
            "Check an image for consistency, as qemu-img check does (no repair: -r is refused).\n",
            program.name.c_str());
        status = 0;
        return std::nullopt;
      case 'f':
        opts.format = optarg;
        break;
      case 'r':
        if (std::strcmp(optarg, "leaks") != 0 && std::strcmp(optarg, "all") != 0) {
          if (modern)
            usage_error(program, "check",
                        "--repair (-r) expects 'leaks' or 'all' not '" + std::string(optarg) + "'");
          else
            usage_error(program, "check",
                        "Unknown option value for -r (expecting 'leaks' or 'all'): " + std::string(optarg));
          return std::nullopt;
        }
        opts.repair = true;
        break;
      case kOptOutput:
        if (modern && std::strcmp(optarg, "human") != 0 && std::strcmp(optarg, "json") != 0) {
          usage_error(program, "check", "--output expects 'human' or 'json' not '" + std::string(optarg) + "'");
          return std::nullopt;
        }
        opts.output = optarg;
        break;
      case 'T':
        opts.cache = optarg;
        break;
      case 'q':
        opts.quiet = true;
        break;
      case 'U':
        break;  // instar never takes image locks; sharing is implied
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
    usage_error(program, "check", "Expecting one image file name");
    return std::nullopt;
  }
  opts.filename = argv[optind];
  if (opts.output && *opts.output != "human" && *opts.output != "json") {
    report_error(program, "--output must be used with human or json as argument.");
    return std::nullopt;
  }
  if (opts.cache && !valid_cache_mode(*opts.cache)) {
    report_error(program, "Invalid source cache option: " + *opts.cache);
    return std::nullopt;
  }
  status = 0;
  return opts;
}

void set_name_tail(Request& request, const std::string& path) {
  std::string base = path;
  if (base.size() >= sizeof request.name_tail) base = base.substr(base.size() - (sizeof request.name_tail - 1));
  for (size_t i = 0; i < base.size(); i++) request.name_tail[i] = base[i];
  request.name_tail[base.size()] = '\0';
}

bool set_format(Request& request, const std::optional<std::string>& format, std::string& error) {
  if (!format) return true;
  ImageFormat f;
  if (!image_format_from_name(format->c_str(), f)) {
    error = "Unknown driver '" + *format + "'";
    return false;
  }
  request.format_given = true;
  request.format = f;
  return true;
}

Request base_request(const Program& program, Operation operation, const std::string& filename) {
  Request request;
  request.operation = operation;
  set_name_tail(request, filename);
  request.qemu_major = static_cast<uint16_t>(program.profile.major);
  request.qemu_minor = static_cast<uint16_t>(program.profile.minor);
  return request;
}

// The external data file qemu opens with the image; qemu names it as stored.
std::optional<std::string> open_data_file(const std::string& name) {
  std::string error;
  if (!open_image_readonly(name, error)) return error;
  return std::nullopt;
}

// Opens the backing chain below `filename` as qemu's bdrv_open does before the
// check runs (each image through core's info, which fails where qemu's open fails).
// Returns the error text qemu would put after "Could not open '<image>': ".
std::optional<std::string> open_backing_chain(const Program& program, const std::string& filename,
                                              std::optional<std::string> backing_name,
                                              std::optional<std::string> backing_format) {
  std::string prefix;
  std::string parent = filename;
  std::set<std::string> seen{filename};
  for (int depth = 0; backing_name; depth++) {
    prefix += "Could not open backing file: ";
    std::string path = combine_backing_path(parent, *backing_name);
    if (!seen.insert(path).second || depth >= 16)
      return prefix + "instar refuses a backing chain that loops or is deeper than 16 images";
    Request request = base_request(program, Operation::info, path);
    std::string error;
    if (!set_format(request, backing_format, error)) return prefix + error;
    auto image = open_image_readonly(path, error);
    if (!image) return prefix + error;
    HostDevices devices;
    devices.image = image->device.get();
    auto record = run_sandboxed(program.sandbox, request, devices);
    if (record.is_error()) return prefix + record.error().message;
    ImageReport report;
    std::optional<RecordError> open_error;
    auto filled = report_from_record(record.value(), report, open_error);
    if (filled.is_error()) return prefix + filled.error().message;
    if (open_error) return prefix + open_error->message;
    if (report.qcow2 && report.qcow2->data_file_required && report.qcow2->data_file) {
      if (auto e = open_data_file(*report.qcow2->data_file)) return prefix + *e;
    }
    parent = path;
    backing_name = report.backing_name;
    backing_format = report.backing_format;
  }
  return std::nullopt;
}

}  // namespace

int check_command(const Program& program, const std::vector<std::string>& args) {
  int status = 1;
  auto opts = parse_options(program, args, status);
  if (!opts) return status;
  if (opts->image_opts) {
    report_error(program, "--image-opts is not supported by instar (see docs/divergences.md)");
    return 1;
  }
  if (opts->repair) {
    // A deliberate refusal (docs/divergences.md#check-repair).
    report_error(program, "repair is not implemented by instar yet");
    return 1;
  }
  const std::string& filename = opts->filename;
  auto fail = [&](const std::string& why) {
    report_error(program, "Could not open '" + filename + "': " + why);
    return 1;
  };
  Request request = base_request(program, Operation::check, filename);
  std::string error;
  if (!set_format(request, opts->format, error)) return fail(error);
  auto image = open_image_readonly(filename, error);
  if (!image) return fail(error);
  HostDevices devices;
  devices.image = image->device.get();
  auto record = run_sandboxed(program.sandbox, request, devices);
  if (record.is_error()) return fail(record.error().message);
  CheckReport report;
  std::optional<std::string> open_error;
  auto filled = check_report_from_record(record.value(), report, open_error);
  if (filled.is_error()) return fail(filled.error().message);
  if (open_error) return fail(*open_error);
  for (const auto& w : report.warnings) std::fprintf(stderr, "%s: warning: %s\n", program.name.c_str(), w.c_str());
  if (report.data_file) {
    if (auto e = open_data_file(*report.data_file)) return fail(*e);
  }
  if (auto e = open_backing_chain(program, filename, report.backing_name, report.backing_format)) return fail(*e);

  if (report.unsupported) {
    report_error(program, "This image format does not support checks");
    return 63;
  }
  for (const auto& line : report.lines) {
    if (line.error_report) std::fprintf(stderr, "%s: ", program.name.c_str());
    std::fwrite(line.text.data(), 1, line.text.size(), stderr);
    std::fputc('\n', stderr);
  }
  if (report.lines_dropped != 0)
    std::fprintf(stderr, "%s: instar: %llu more lines left out (the report's size limit)\n", program.name.c_str(),
                 static_cast<unsigned long long>(report.lines_dropped));
  if (report.failed_errno) {
    report_error(program, std::string("Check failed: ") + std::strerror(*report.failed_errno));
    return 1;
  }
  if (!opts->quiet) {
    bool json = opts->output && *opts->output == "json";
    std::string text = json ? render_check_json(report, filename) : render_check_human(report);
    std::fflush(stderr);
    std::fwrite(text.data(), 1, text.size(), stdout);
  }
  if (report.check_errors != 0) {
    std::fflush(stdout);
    report_error(program, "Check failed");
    return 1;
  }
  if (report.corruptions != 0) return 2;
  if (report.leaks != 0) return 3;
  return 0;
}

}  // namespace instar::cli
