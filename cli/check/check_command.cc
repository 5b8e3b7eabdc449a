// check_command.cc: option parsing (glibc getopt_long, as qemu-img), opening
// the image and what qemu opens with it, running core/'s check, printing.
#include "cli/check/check_command.h"

#include <getopt.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>
#include <set>

#include "cli/cache_mode.h"
#include "cli/check/check_report.h"
#include "cli/getopt_args.h"
#include "cli/image_opts.h"
#include "cli/info/backing_path.h"
#include "cli/info/image_report.h"
#include "cli/io/open_image.h"
#include "cli/object_option.h"
#include "cli/sandbox/sandbox.h"

namespace instar::cli {

namespace {

enum LongOnly { kOptOutput = 256, kOptObject, kOptImageOpts };

struct CheckOptions {
  std::optional<std::string> format;
  std::optional<std::string> output;
  std::optional<std::string> cache;
  uint8_t repair = 0;  // kRepairLeaks, or kRepairLeaks | kRepairErrors for -r all
  bool quiet = false;
  bool force_share = false;
  bool image_opts = false;
  std::string filename;
};

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
            "usage: %s check [-f FMT] [--output=human|json] [-r leaks|all] [-q] [-T CACHE] [-U|--force-share]\n"
            "       [--object OBJDEF] [--qemu-version X.Y] FILENAME\n"
            "Check an image for consistency, as qemu-img check does; -r leaks|all repairs qcow2\n"
            "refcounts in place (docs/check.md).\n",
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
        opts.repair = std::strcmp(optarg, "all") == 0 ? (kRepairLeaks | kRepairErrors) : kRepairLeaks;
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
        opts.force_share = true;  // instar never takes image locks; sharing is implied when reading
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
std::optional<std::string> open_data_file(const std::string& name, bool direct) {
  std::string error;
  if (!open_image_readonly(name, error, direct)) return error;
  return std::nullopt;
}

// Opens the backing chain below `filename` as qemu's bdrv_open does before the
// check runs (each image through core's info, which fails where qemu's open fails).
// Returns the error text qemu would put after "Could not open '<image>': ".
std::optional<std::string> open_backing_chain(const Program& program, const std::string& filename,
                                              std::optional<std::string> backing_name,
                                              std::optional<std::string> backing_format, bool direct) {
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
    auto image = open_image_readonly(path, error, direct);
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
      if (auto e = open_data_file(*report.qcow2->data_file, direct)) return prefix + *e;
    }
    parent = path;
    backing_name = report.backing_name;
    backing_format = report.backing_format;
  }
  return std::nullopt;
}

// One run of core's check over `image`; the report, or the error text qemu
// puts after "Could not open '<image>': ".
std::optional<std::string> run_check_once(const Program& program, const Request& request, FileBlockDevice* image,
                                          CheckReport& report) {
  HostDevices devices;
  devices.image = image;
  auto record = run_sandboxed(program.sandbox, request, devices);
  if (record.is_error()) return std::string(record.error().message);
  std::optional<std::string> open_error;
  auto filled = check_report_from_record(record.value(), report, open_error);
  if (filled.is_error()) return std::string(filled.error().message);
  return open_error;
}

// What qemu opens with the image before it checks: its data file and backing chain.
std::optional<std::string> open_companions(const Program& program, const std::string& filename,
                                           const CheckReport& report, bool direct) {
  if (report.data_file) {
    if (auto e = open_data_file(*report.data_file, direct)) return e;
  }
  return open_backing_chain(program, filename, report.backing_name, report.backing_format, direct);
}

void print_lines(const Program& program, const CheckReport& report) {
  for (const auto& line : report.lines) {
    if (line.error_report) std::fprintf(stderr, "%s: ", program.name.c_str());
    std::fwrite(line.text.data(), 1, line.text.size(), stderr);
    std::fputc('\n', stderr);
  }
  if (report.lines_dropped != 0)
    std::fprintf(stderr, "%s: instar: %llu more lines left out (the report's size limit)\n", program.name.c_str(),
                 static_cast<unsigned long long>(report.lines_dropped));
}

}  // namespace

int check_command(const Program& program, const std::vector<std::string>& args) {
  int status = 1;
  auto opts = parse_options(program, args, status);
  if (!opts) return status;
  if (opts->image_opts) {
    // qemu's img_open: the -f conflict first, then the option string.
    if (opts->format) {
      report_error(program, "--image-opts and --format are mutually exclusive");
      return 1;
    }
    if (auto error = image_opts_open_error(opts->filename)) {
      report_error(program, "Could not open '" + opts->filename + "': " + *error);
      return 1;
    }
    report_error(program, "--image-opts is not supported by instar (see docs/divergences.md)");
    return 1;
  }
  const std::string& filename = opts->filename;
  auto fail = [&](const std::string& why) {
    report_error(program, "Could not open '" + filename + "': " + why);
    return 1;
  };
  const bool repair = opts->repair != 0;
  Request request = base_request(program, Operation::check, filename);
  std::string error;
  if (!set_format(request, opts->format, error)) return fail(error);
  // qemu refuses the combination when it opens the image: after the driver lookup, before the file.
  if (repair && opts->force_share) return fail("force-share=on can only be used with read-only images");
  // qemu opens the image read-write for -r: open(2)'s own error (EISDIR, EACCES) comes first. That
  // descriptor serves the one repair run below; every other run reads through a read-only one.
  std::optional<OpenedImage> writable;
  if (repair) {
    writable = open_image_for_repair(filename, error);
    if (!writable) return fail(error);
  }
  // -T none, off or directsync: qemu opens the image and what it names with O_DIRECT.
  const bool direct = opts->cache && direct_cache_mode(*opts->cache);
  auto image = open_image_readonly(filename, error, direct);
  if (!image) return fail(error);
  CheckReport report;
  if (auto e = run_check_once(program, request, image->device.get(), report)) return fail(*e);
  for (const auto& w : report.warnings) std::fprintf(stderr, "%s: warning: %s\n", program.name.c_str(), w.c_str());
  // qemu's hint after the warning for bitmaps a program without bitmap support touched: no newline.
  if (report.bitmaps_leak_hint)
    std::fputs("Some clusters may be leaked, run 'qemu-img check -r' on the image file to fix.", stderr);
  // Before anything is written: qemu opens all of this before its check runs.
  if (auto e = open_companions(program, filename, report, direct)) return fail(*e);

  if (report.unsupported) {
    if (repair && !request.format_given) {
      // qemu's warning for a probed raw image opened for writing.
      std::fprintf(stderr,
                   "WARNING: Image format was not specified for '%s' and probing guessed raw.\n"
                   "         Automatically detecting the format is dangerous for raw images, write operations on "
                   "block 0 will be restricted.\n"
                   "         Specify the 'raw' format explicitly to remove the restrictions.\n",
                   filename.c_str());
    }
    report_error(program, "This image format does not support checks");
    return 63;
  }
  bool json = opts->output && *opts->output == "json";
  // -r on an image with persistent bitmaps: qemu stores them when it closes the image, after its
  // check again; the repair run planned it, validated, to leave the file this large.
  std::optional<uint64_t> bitmap_store_size;
  auto store_bitmaps = [&](int status) {
    if (!bitmap_store_size) return status;
    constexpr uint64_t kMaxStoredFile = uint64_t{1} << 40;
    uint64_t size = *bitmap_store_size;
    if (size < writable->length || size > kMaxStoredFile) {
      report_error(program, "the bitmap store asked for a bad file size; the bitmaps were not stored");
      return 1;
    }
    int fd = ::dup(writable->device->fd());
    if (fd < 0) {
      report_error(program, std::string("storing the persistent bitmaps failed: ") + std::strerror(errno));
      return 1;
    }
    FileBlockDevice device(fd, size, true);
    Request store_request = request;
    store_request.check.store_bitmaps = true;
    store_request.check.file_size = size > writable->length ? writable->length : 0;
    CheckReport stored;
    if (auto e = run_check_once(program, store_request, &device, stored)) {
      report_error(program, "storing the persistent bitmaps failed: " + *e);
      return 1;
    }
    return status;
  };
  if (repair) {
    // The repair run: the only one with a writable image. core plans every
    // write from its check and validates the plan before issuing any.
    Request repair_request = request;
    repair_request.check.repair = opts->repair;
    CheckReport repaired;
    if (auto e = run_check_once(program, repair_request, writable->device.get(), repaired)) return fail(*e);
    if (repaired.repair_grow_to) {
      // A rebuild that grows the file (qemu writes its new refcount structure past the end): core
      // wrote nothing and said how large the file becomes. The same repair runs again on a device
      // exactly that large, told the file's length; the sandboxes refuse writes beyond it.
      // The size comes from the sandboxed parser: bounded here, whatever core promised. qemu's rebuild
      // writes a few clusters past the end, or extends the file (sparsely) out to a refcount block the
      // table names; core refuses such a block beyond 1 TiB, and so does the host.
      constexpr uint64_t kMaxGrownFile = uint64_t{1} << 40;
      uint64_t grow_to = *repaired.repair_grow_to;
      if (grow_to <= writable->length) return fail("instar: a rebuild asked to grow the file to its own size");
      if (grow_to > kMaxGrownFile) return fail("instar: a rebuild asked to grow the file beyond 1 TiB");
      int fd = ::dup(writable->device->fd());
      if (fd < 0) return fail(std::strerror(errno));
      FileBlockDevice grown(fd, grow_to, true);
      repair_request.check.file_size = writable->length;
      repaired = CheckReport{};
      if (auto e = run_check_once(program, repair_request, &grown, repaired)) return fail(*e);
      if (repaired.repair_grow_to) return fail("instar: a rebuild asked to grow the file twice");
    }
    if (repaired.bitmap_store_size)
      bitmap_store_size = *repaired.bitmap_store_size;
    else
      writable.reset();
    print_lines(program, repaired);
    if (repaired.repair_refused) {
      report_error(program, "Check failed: " + *repaired.repair_refused + "; the image was not changed");
      return 1;
    }
    if (repaired.leaks_fixed != 0 || repaired.corruptions_fixed != 0) {
      if (!json && !opts->quiet) {
        std::fflush(stderr);
        std::printf(
            "The following inconsistencies were found and repaired:\n\n"
            "    %lld leaked clusters\n"
            "    %lld corruptions\n\n"
            "Double checking the fixed image now...\n",
            static_cast<long long>(repaired.leaks_fixed), static_cast<long long>(repaired.corruptions_fixed));
        std::fflush(stdout);
      }
      // The repair marked the image corrupt, which disabled it in qemu: its check again has no driver.
      if (repaired.repair_disabled) {
        report_error(program, std::string("Check failed: ") + std::strerror(ENOMEDIUM));
        return 1;
      }
      // qemu checks again, without repair, and reports that check with the repair's counts.
      auto reread = open_image_readonly(filename, error);
      if (!reread) return fail(error);
      report = CheckReport{};
      if (auto e = run_check_once(program, request, reread->device.get(), report)) return fail(*e);
      report.leaks_fixed = repaired.leaks_fixed;
      report.corruptions_fixed = repaired.corruptions_fixed;
      print_lines(program, report);
    } else {
      report = repaired;
    }
  } else {
    print_lines(program, report);
  }
  if (report.failed_errno) {
    report_error(program, std::string("Check failed: ") + std::strerror(*report.failed_errno));
    return store_bitmaps(1);
  }
  if (!opts->quiet) {
    std::string text = json ? render_check_json(report, filename) : render_check_human(report);
    std::fflush(stderr);
    std::fwrite(text.data(), 1, text.size(), stdout);
  }
  if (report.check_errors != 0) {
    std::fflush(stdout);
    report_error(program, "Check failed");
    return store_bitmaps(1);
  }
  std::fflush(stdout);
  if (report.corruptions != 0) return store_bitmaps(2);
  if (report.leaks != 0) return store_bitmaps(3);
  return store_bitmaps(0);
}

}  // namespace instar::cli
