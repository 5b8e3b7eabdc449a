// dd_command.cc: qemu-img dd's options, operands and checks in its order, the
// chain session with an output sized by core, and dd's messages.
#include "cli/dd/dd_command.h"

#include <getopt.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "cli/chain/chain_session.h"
#include "cli/getopt_args.h"
#include "cli/image_opts.h"
#include "cli/object_option.h"
#include "cli/size_option.h"
#include "core/ops/dd_record.h"
#include "core/ops/info_record.h"

namespace instar::cli {

namespace {

enum LongOnly { kOptObject = 256, kOptImageOpts };

// The format drivers both qemu-img builds know (`qemu-img --help`): -O with one
// of them is a real output format instar does not write; any other name is
// qemu's "Unknown file format" once the input opened.
const char* const kQemuFormats[] = {
    "blkdebug", "blklogwrites", "blkverify", "bochs", "cloop", "compress", "copy-before-write", "copy-on-read",
    "dmg", "file", "ftp", "ftps", "gluster", "host_cdrom", "host_device", "http", "https", "iscsi", "iser",
    "luks", "nbd", "nfs", "null-aio", "null-co", "nvme", "parallels", "preallocate", "qcow", "qcow2", "qed",
    "quorum", "raw", "rbd", "replication", "snapshot-access", "ssh", "throttle", "vdi", "vhdx", "vmdk", "vpc",
    "vvfat"};

bool known_format(const std::string& name) {
  for (const char* f : kQemuFormats)
    if (name == f) return true;
  return false;
}

// count= and skip=: 7.2 reads them as sizes (cvtnum, suffixes allowed); 10.0 as
// plain integers (decimal, 0x hex or 0 octal), a negative value out of range.
std::optional<int64_t> parse_blocks(const Program& program, const std::string& name, const std::string& value) {
  if (program.profile.major < 10) return cvtnum(program, name, value, 0, INT64_MAX);
  const char* s = value.c_str();
  char* end = nullptr;
  errno = 0;
  long long v = std::strtoll(s, &end, 0);
  if (end == s || *end != '\0') {
    report_error(program, "Invalid " + name + " specified: '" + value + "'.");
    return std::nullopt;
  }
  if (errno == ERANGE || v < 0) {
    report_error(program, "Invalid " + name + " specified. Must be between 0 and " + std::to_string(INT64_MAX) + ".");
    return std::nullopt;
  }
  return static_cast<int64_t>(v);
}

}  // namespace

std::optional<DdOptions> parse_dd_options(const Program& program, const std::vector<std::string>& args,
                                          int& status) {
  GetoptArgs getopt_args(program, "dd", args);
  char** argv = getopt_args.argv();
  static const struct option kLongOptions72[] = {
      {"help", no_argument, nullptr, 'h'},
      {"object", required_argument, nullptr, kOptObject},
      {"image-opts", no_argument, nullptr, kOptImageOpts},
      {"force-share", no_argument, nullptr, 'U'},
      {nullptr, 0, nullptr, 0},
  };
  static const struct option kLongOptions10[] = {
      {"help", no_argument, nullptr, 'h'},
      {"object", required_argument, nullptr, kOptObject},
      {"format", required_argument, nullptr, 'f'},
      {"image-opts", no_argument, nullptr, kOptImageOpts},
      {"output-format", required_argument, nullptr, 'O'},
      {"force-share", no_argument, nullptr, 'U'},
      {nullptr, 0, nullptr, 0},
  };
  const struct option* long_options = program.profile.major >= 10 ? kLongOptions10 : kLongOptions72;
  const std::string shortopts = getopt_args.shortopts("hf:O:U");
  int argc = getopt_args.argc();
  DdOptions o;
  status = 1;
  for (;;) {
    int c = getopt_long(argc, argv, shortopts.c_str(), long_options, nullptr);
    if (c == -1) break;
    switch (c) {
      case '?':
      case ':':
        getopt_args.report_failure(c);
        return std::nullopt;
      case 'h':
        // instar prints its own usage rather than qemu-img's (docs/divergences.md#help-text).
        std::printf(
            "usage: %s dd [-f FMT] [-O raw] [-U] [bs=BLOCK_SIZE] [count=BLOCKS] [skip=BLOCKS]\n"
            "       [--qemu-version X.Y] if=INPUT of=OUTPUT\n"
            "Copy a window of a disk image to a raw file, as qemu-img dd does.\n",
            program.name.c_str());
        status = 0;
        return std::nullopt;
      case 'f':
        o.format = optarg;
        break;
      case 'O':
        o.out_format = optarg;
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
      default:
        return std::nullopt;
    }
  }
  bool have_input = false, have_output = false;
  for (int i = optind; i < argc; i++) {
    std::string arg = argv[i];
    size_t eq = arg.find('=');
    if (eq == std::string::npos) {
      report_error(program, "unrecognized operand " + arg);
      return std::nullopt;
    }
    std::string name = arg.substr(0, eq), value = arg.substr(eq + 1);
    if (name == "bs") {
      auto v = cvtnum(program, "bs", value, 1, INT_MAX);
      if (!v) return std::nullopt;
      o.block_size = *v;
    } else if (name == "count") {
      auto v = parse_blocks(program, "count", value);
      if (!v) return std::nullopt;
      o.count = *v;
    } else if (name == "skip") {
      auto v = parse_blocks(program, "skip", value);
      if (!v) return std::nullopt;
      o.skip = *v;
    } else if (name == "if") {
      o.input = value;
      have_input = true;
    } else if (name == "of") {
      o.output = value;
      have_output = true;
    } else {
      report_error(program, "unrecognized operand " + name);
      return std::nullopt;
    }
  }
  if (!have_input || !have_output) {
    report_error(program, "Must specify both input and output files");
    return std::nullopt;
  }
  if (o.image_opts && o.format) {
    report_error(program, "--image-opts and --format are mutually exclusive");
    return std::nullopt;
  }
  status = 0;
  return o;
}

int dd_command(const Program& program, const std::vector<std::string>& args) {
  int status = 1;
  auto opts = parse_dd_options(program, args, status);
  if (!opts) return status;
  if (opts->image_opts) {
    if (auto error = image_opts_open_error(opts->input)) {
      report_error(program, "Could not open '" + opts->input + "': " + *error);
      return 1;
    }
    report_error(program, "--image-opts is not supported by instar (see docs/divergences.md)");
    return 1;
  }
  if (opts->out_format != "raw" && known_format(opts->out_format)) {
    report_error(program, "-O " + opts->out_format + " is not supported by instar yet (see docs/dd.md)");
    return 1;
  }
  Request request;
  request.operation = Operation::dd;
  const std::string& source = opts->input;
  if (opts->format) {
    ImageFormat f;
    if (!image_format_from_name(opts->format->c_str(), f)) {
      report_error(program, "Could not open '" + source + "': Unknown driver '" + *opts->format + "'");
      return 1;
    }
    request.format_given = true;
    request.format = f;
  }
  if (source.empty()) {
    // qemu's file driver refuses an empty name before looking for a file.
    report_error(program, "Could not open '': The 'file' block driver requires a file name");
    return 1;
  }
  set_name_tail(request, source);
  request.qemu_major = static_cast<uint16_t>(program.profile.major);
  request.qemu_minor = static_cast<uint16_t>(program.profile.minor);
  if (opts->out_format != "raw") {
    // qemu opens the input, then looks the output format up.
    Request probe = request;
    probe.operation = Operation::map;
    probe.map.has_max_length = true;
    probe.map.max_length = 0;
    if (!run_chain_session(program, probe, source)) return 1;
    report_error(program, "Unknown file format");
    return 1;
  }
  request.dd.block_size = static_cast<uint64_t>(opts->block_size);
  request.dd.has_count = opts->count.has_value();
  request.dd.count = opts->count ? static_cast<uint64_t>(*opts->count) : 0;
  request.dd.skip = static_cast<uint64_t>(opts->skip);
  OutputSpec output{opts->output, false, "error while creating output image"};
  auto session = run_chain_session(program, request, source, output);
  if (!session) return 1;
  const RecordField& root = session->record.root;
  if (root.find(kDdSkipFailed) != nullptr) report_error(program, source + ": cannot skip to specified offset");
  if (auto message = record_error_message(root)) {
    if (root.find(kTagLayer) == nullptr) {
      report_error(program, "Could not open '" + source + "': " + *message);
    } else {
      report_error(program, "error while reading from input image file: " + *message);
    }
    return 1;
  }
  return 0;
}

}  // namespace instar::cli
