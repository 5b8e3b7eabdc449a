// measure_command.cc: qemu-img measure: option parsing per profile, the
// source read in the sandbox (source mode), the target's sizes from
// core/ops/measure_plan.h, rendering.
#include "cli/measure/measure_command.h"

#include <getopt.h>

#include <cstdio>
#include <optional>

#include "cli/chain/chain_session.h"
#include "cli/measure/create_options.h"
#include "cli/measure/size_text.h"
#include "cli/object_option.h"
#include "cli/render/qobject.h"
#include "cli/record_decoder.h"
#include "core/ops/info_record.h"
#include "core/ops/measure_plan.h"
#include "core/ops/measure_record.h"

namespace instar::cli {

namespace {

enum LongOnly { kOptImageOpts = 256, kOptObject, kOptOutput, kOptSize };

struct MeasureOptions {
  std::string out_format = "raw";
  std::optional<std::string> format;
  std::optional<std::string> options;  // the -o arguments joined with ','
  std::optional<std::string> snapshot;  // the last -l TEXT
  // The last -l snapshot.id=..,snapshot.name=..; it wins over any -l TEXT, as in img_measure.
  std::optional<ParsedOptions> snapshot_options;
  std::optional<uint64_t> size;
  bool image_opts = false;
  bool json = false;
  std::optional<std::string> filename;
};

void print_help(const Program& program) {
  // instar prints its own usage rather than qemu-img's (docs/divergences.md#help-text).
  std::printf(
      "usage: %s measure [--output=human|json] [-O FMT] [-o OPTIONS]\n"
      "       [--size N | [--object OBJDEF] [-f FMT] [-l SNAPSHOT] FILENAME] [--qemu-version X.Y]\n"
      "Report the size a new image of format FMT needs, as qemu-img measure does.\n",
      program.name.c_str());
}

// The size messages of img_measure's cvtnum("image size", ...).
bool size_argument(const Program& program, const std::string& text, uint64_t& out) {
  bool modern = program.profile.major >= 10;
  ParsedSize parsed = parse_qemu_size(text, modern);
  if (!parsed.warning.empty())
    std::fprintf(stderr, "%s: warning: %s\n", program.name.c_str(), parsed.warning.c_str());
  if (parsed.status == SizeParse::invalid) {
    if (modern) {
      report_error(program, "Invalid image size specified: '" + text + "'.");
    } else {
      report_error(program, "Invalid image size specified. You may use k, M, G, T, P or E suffixes for");
      report_error(program, "kilobytes, megabytes, gigabytes, terabytes, petabytes and exabytes.");
    }
    return false;
  }
  if (parsed.status == SizeParse::out_of_range || parsed.value > uint64_t{INT64_MAX}) {
    report_error(program, "Invalid image size specified. Must be between 0 and 9223372036854775807.");
    return false;
  }
  out = parsed.value;
  return true;
}

// Returns nullopt after printing; `status` is then the exit status.
std::optional<MeasureOptions> parse_options(const Program& program, const std::vector<std::string>& args,
                                            int& status) {
  bool modern = program.profile.getopt_messages();
  std::vector<std::string> storage{modern ? program.argv0 + " measure" : std::string("measure")};
  storage.insert(storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& s : storage) argv.push_back(s.data());
  argv.push_back(nullptr);
  static const struct option kLong72[] = {
      {"help", no_argument, nullptr, 'h'},
      {"image-opts", no_argument, nullptr, kOptImageOpts},
      {"object", required_argument, nullptr, kOptObject},
      {"output", required_argument, nullptr, kOptOutput},
      {"size", required_argument, nullptr, kOptSize},
      {"force-share", no_argument, nullptr, 'U'},
      {nullptr, 0, nullptr, 0},
  };
  static const struct option kLong10[] = {
      {"help", no_argument, nullptr, 'h'},
      {"target-format", required_argument, nullptr, 'O'},
      {"format", required_argument, nullptr, 'f'},
      {"image-opts", no_argument, nullptr, kOptImageOpts},
      {"options", required_argument, nullptr, 'o'},
      {"object", required_argument, nullptr, kOptObject},
      {"output", required_argument, nullptr, kOptOutput},
      {"snapshot", required_argument, nullptr, 'l'},
      {"size", required_argument, nullptr, kOptSize},
      {"force-share", no_argument, nullptr, 'U'},
      {nullptr, 0, nullptr, 0},
  };
  MeasureOptions opts;
  optind = 0;
  opterr = 1;
  int argc = static_cast<int>(storage.size());
  status = 1;
  for (;;) {
    int c = modern ? getopt_long(argc, argv.data(), "hf:O:o:l:U", kLong10, nullptr)
                   : getopt_long(argc, argv.data(), "hf:o:O:l:U", kLong72, nullptr);
    if (c == -1) break;
    switch (c) {
      case '?':
        if (modern) {
          usage_error(program, "measure", "");
          return std::nullopt;
        }
        print_help(program);
        status = 0;
        return std::nullopt;
      case 'h':
        print_help(program);
        status = 0;
        return std::nullopt;
      case 'f':
        opts.format = optarg;
        break;
      case 'O':
        opts.out_format = optarg;
        break;
      case 'o':
        if (!valid_option_list(optarg)) {
          report_error(program, "Invalid option list: " + std::string(optarg));
          return std::nullopt;
        }
        opts.options = opts.options ? *opts.options + "," + optarg : std::string(optarg);
        break;
      case 'l': {
        std::string text = optarg;
        if (text.rfind("snapshot.", 0) == 0) {
          // qemu parses "snapshot.id=..,snapshot.name=.." as options of their own.
          std::vector<std::string> errors;
          static const std::vector<OptionDesc> kSnapshotOptions = {{"snapshot.id", OptionType::string},
                                                                   {"snapshot.name", OptionType::string}};
          std::vector<std::string> short_forms;
          auto parsed = parse_creation_options(text, kSnapshotOptions, modern, errors, &short_forms);
          for (const std::string& item : short_forms) {
            // qemu_opts_parse_noisily's warning for a bare "foo" (foo=on) or "nofoo" (foo=off).
            bool off = item.rfind("no", 0) == 0;
            std::fprintf(stderr, "%s: warning: short-form boolean option '%s' deprecated\nPlease use %s=%s instead\n",
                         program.name.c_str(), item.c_str(), off ? item.c_str() + 2 : item.c_str(), off ? "off" : "on");
          }
          if (!parsed) {
            report_error(program, errors[0]);
            report_error(program, "Failed in parsing snapshot param '" + text + "'");
            return std::nullopt;
          }
          opts.snapshot_options = *parsed;
        } else {
          opts.snapshot = text;
        }
        break;
      }
      case 'U':
        break;  // instar never takes image locks
      case kOptObject:
        if (auto error = check_object_option(optarg)) {
          report_error(program, *error);
          return std::nullopt;
        }
        break;
      case kOptImageOpts:
        opts.image_opts = true;
        break;
      case kOptOutput: {
        std::string value = optarg;
        if (value == "json") {
          opts.json = true;
        } else if (value == "human") {
          opts.json = false;
        } else if (modern) {
          usage_error(program, "measure", "--output expects 'human' or 'json' not '" + value + "'");
          return std::nullopt;
        } else {
          report_error(program, "--output must be used with human or json as argument.");
          return std::nullopt;
        }
        break;
      }
      case kOptSize: {
        uint64_t size = 0;
        if (!size_argument(program, optarg, size)) return std::nullopt;
        opts.size = size;
        break;
      }
      default:
        return std::nullopt;
    }
  }
  if (argc - optind > 1) {
    report_error(program, "At most one filename argument is allowed.");
    return std::nullopt;
  }
  if (argc - optind == 1) opts.filename = argv[optind];
  if (!opts.filename && (opts.image_opts || opts.format || opts.snapshot || opts.snapshot_options)) {
    report_error(program, "--image-opts, -f, and -l require a filename argument.");
    return std::nullopt;
  }
  if (opts.filename && opts.size) {
    report_error(program, "--size N cannot be used together with a filename.");
    return std::nullopt;
  }
  if (!opts.filename && !opts.size) {
    report_error(program, "Either --size N or one filename must be specified.");
    return std::nullopt;
  }
  status = 0;
  return opts;
}

// What the sandbox read from the source image.
struct SourceReport {
  std::string format;
  uint64_t length = 0;
  bool bitmaps_supported = false;
  std::vector<measure::BitmapSpec> bitmaps;
  uint64_t data_clusters[measure::kClusterSizeCount] = {};
};

bool snapshot_key(const Program& program, const std::string& text, SnapshotKey& key) {
  if (text.size() >= kSnapshotKeyMax) {
    // docs/divergences.md#measure-snapshot-key-length
    report_error(program, "snapshot ids and names longer than " + std::to_string(kSnapshotKeyMax - 1) +
                              " bytes are not supported by instar");
    return false;
  }
  key.present = true;
  key.length = static_cast<uint16_t>(text.size());
  for (size_t i = 0; i < text.size(); i++) key.bytes[i] = text[i];
  return true;
}

// The snapshot -l selects, for core (img_measure: snapshot.* options win over a bare name).
bool snapshot_request(const Program& program, const MeasureOptions& opts, MeasureParams& out) {
  if (opts.snapshot_options) {
    out.lookup = SnapshotLookup::id_and_name;
    if (const ParsedOption* id = opts.snapshot_options->last("snapshot.id"))
      if (!snapshot_key(program, id->text, out.id)) return false;
    if (const ParsedOption* name = opts.snapshot_options->last("snapshot.name"))
      if (!snapshot_key(program, name->text, out.name)) return false;
  } else if (opts.snapshot) {
    out.lookup = SnapshotLookup::id_or_name;
    if (!snapshot_key(program, *opts.snapshot, out.id)) return false;
  }
  return true;
}

// Reads the source in the sandbox; prints the error and returns nullopt on failure.
std::optional<SourceReport> read_source(const Program& program, const MeasureOptions& opts) {
  const std::string& filename = *opts.filename;
  auto fail = [&](const std::string& why) {
    report_error(program, "Could not open '" + filename + "': " + why);
    return std::nullopt;
  };
  if (opts.image_opts) {
    report_error(program, "--image-opts is not supported by instar (see docs/divergences.md)");
    return std::nullopt;
  }
  Request request;
  request.operation = Operation::measure;
  if (opts.format) {
    ImageFormat f;
    if (!image_format_from_name(opts.format->c_str(), f)) return fail("Unknown driver '" + *opts.format + "'");
    request.format_given = true;
    request.format = f;
  }
  if (!snapshot_request(program, opts, request.measure)) return std::nullopt;
  // Only qcow2's measure walks the source's block status (docs/measure.md#corruption-events).
  request.measure.count_data = opts.out_format == "qcow2";
  set_name_tail(request, filename);
  request.qemu_major = static_cast<uint16_t>(program.profile.major);
  request.qemu_minor = static_cast<uint16_t>(program.profile.minor);
  // The chain session attaches the backing and data files core asks for.
  auto session = run_chain_session(program, request, filename);
  if (!session) return std::nullopt;
  const DecodedRecord& decoded = session->record;
  const RecordField& r = decoded.root;
  if (decoded.operation != static_cast<uint16_t>(Operation::measure)) return fail("result record is not a measure record");
  if (auto message = record_error_message(r)) {
    const std::string& text = *message;
    if (r.bool_of(kMeasureSnapshotFailed)) {
      report_error(program, "Failed to load snapshot: " + text);
      return std::nullopt;
    }
    // An error after the open (the block status walk) is qemu's own line, not an open failure.
    if (r.u64_of(kMeasureLength) && text.rfind("Unable to get block status", 0) == 0) {
      report_error(program, text);
      return std::nullopt;
    }
    return fail(text);
  }
  SourceReport s;
  auto format = r.string_of(kMeasureFormat);
  auto length = r.u64_of(kMeasureLength);
  if (!format || !length) return fail("measure record lacks format or length");
  s.format = *format;
  s.length = *length;
  s.bitmaps_supported = r.bool_of(kMeasureBitmapsSupported);
  for (const RecordField* b : r.find_all(kMeasureBitmap)) {
    measure::BitmapSpec spec;
    spec.name_length = b->u64_of(kMeasureBitmapNameLength).value_or(0);
    uint64_t bits = b->u64_of(kMeasureBitmapGranularityBits).value_or(64);
    if (bits > 63 || spec.name_length > 1023) return fail("measure record holds a bad bitmap");
    spec.granularity_bits = static_cast<uint32_t>(bits);
    s.bitmaps.push_back(spec);
  }
  for (size_t i = 0; i < measure::kClusterSizeCount; i++) {
    auto count = r.u64_of(static_cast<uint16_t>(kMeasureDataClusters + i));
    if (!count) return fail("measure record lacks the data counts");
    // Never more clusters than the source's length covers (the record is untrusted).
    uint64_t max = (s.length >> (9 + i)) + 1;
    if (*count > max) return fail("measure record holds an impossible data count");
    s.data_clusters[i] = *count;
  }
  return s;
}

void render(const measure::Measurement& m, bool json) {
  std::string text;
  if (json) {
    QObject dict = QObject::dict();
    dict.put("required", QObject::integer(static_cast<int64_t>(m.required)));
    dict.put("fully-allocated", QObject::integer(static_cast<int64_t>(m.fully_allocated)));
    if (m.has_bitmaps) dict.put("bitmaps", QObject::integer(static_cast<int64_t>(m.bitmaps)));
    text = to_json_pretty(dict) + "\n";
  } else {
    text = "required size: " + std::to_string(m.required) + "\n" +
           "fully allocated size: " + std::to_string(m.fully_allocated) + "\n";
    if (m.has_bitmaps) text += "bitmaps size: " + std::to_string(m.bitmaps) + "\n";
  }
  std::fwrite(text.data(), 1, text.size(), stdout);
}

// Drivers qemu-img lists but loads from a module this host lacks (Debian without qemu-block-extra).
const char* module_of(const std::string& format) {
  if (format == "ftp" || format == "ftps" || format == "http" || format == "https") return "curl";
  if (format == "gluster" || format == "iscsi" || format == "nfs" || format == "rbd" || format == "ssh")
    return format.c_str();
  if (format == "iser") return "iscsi";
  return nullptr;
}

bool is_driver_without_creation(const std::string& f) {
  static const char* const kNames[] = {"blkdebug", "blklogwrites", "blkverify", "bochs", "cloop",
                                       "compress", "copy-before-write", "copy-on-read", "dmg", "null-aio",
                                       "null-co", "preallocate", "quorum", "replication", "snapshot-access",
                                       "throttle", "vvfat"};
  for (const char* n : kNames)
    if (f == n) return true;
  return false;
}

}  // namespace

int measure_command(const Program& program, const std::vector<std::string>& args) {
  int status = 1;
  auto opts = parse_options(program, args, status);
  if (!opts) return status;
  bool qemu_10 = program.profile.major >= 10;

  std::optional<SourceReport> source;
  if (opts->filename) {
    source = read_source(program, *opts);
    if (!source) return 1;
  }

  const std::string& fmt = opts->out_format;
  if (const char* module = module_of(fmt)) {
    if (qemu_10)
      report_error(program, std::string("Unable to load module ") + module +
                                ". Perhaps you want to install qemu-block-extra or qemu-block-supplemental package?");
    else
      std::fprintf(stderr, "qemu: module block-block-%s not found, do you want to install qemu-block-extra package?\n",
                   module);
    report_error(program, "Unknown file format '" + fmt + "'");
    return 1;
  }
  if (is_driver_without_creation(fmt)) {
    report_error(program, "Format driver '" + fmt + "' does not support image creation");
    return 1;
  }
  const std::vector<OptionDesc>* descs = creation_options(fmt, qemu_10);
  if (descs == nullptr) {
    report_error(program, "Unknown file format '" + fmt + "'");
    return 1;
  }
  ParsedOptions parsed;
  if (opts->options) {
    std::vector<std::string> errors;
    auto p = parse_creation_options(*opts->options, *descs, qemu_10, errors);
    if (!p) {
      std::string text = program.name + ": " + errors[0] + "\n";
      for (size_t i = 1; i < errors.size(); i++) text += errors[i].substr(1) + "\n";
      std::fputs(text.c_str(), stderr);
      report_error(program, "Invalid options for file format '" + fmt + "'");
      return 1;
    }
    parsed = *p;
  }
  if (fmt == "luks") {
    // docs/divergences.md#measure-luks
    report_error(program, "measure -O luks is not supported by instar yet");
    return 1;
  }
  if (fmt != "raw" && fmt != "qcow2") {
    report_error(program, "Block driver '" + fmt + "' does not support size measurement");
    return 1;
  }
  uint64_t size = 0;
  if (const ParsedOption* o = parsed.last("size")) size = o->number;
  if (opts->size) size = *opts->size;

  measure::Source src;
  if (source) src.length = source->length;

  if (fmt == "raw") {
    render(measure::plan_raw(size, source ? &src : nullptr), opts->json);
    return 0;
  }

  measure::Qcow2Options q;
  q.size = size;
  if (const ParsedOption* o = parsed.last("extended_l2")) q.extended_l2 = o->boolean;
  if (const ParsedOption* o = parsed.last("cluster_size")) q.cluster_size = o->number;
  auto fail = [&](const Error& e) {
    report_error(program, e.message);
    return 1;
  };
  if (auto r = measure::check_cluster_size(q.cluster_size, q.extended_l2); r.is_error()) return fail(r.error());
  if (const ParsedOption* o = parsed.last("compat")) {
    if (o->text == "0.10") {
      q.version = 2;
    } else if (o->text == "1.1") {
      q.version = 3;
    } else {
      report_error(program, "Invalid compatibility level: '" + o->text + "'");
      return 1;
    }
  }
  if (const ParsedOption* o = parsed.last("refcount_bits")) q.refcount_bits = o->number;
  if (auto r = measure::check_refcount_bits(q.refcount_bits, q.version); r.is_error()) return fail(r.error());
  if (const ParsedOption* o = parsed.last("preallocation")) {
    const std::string& v = o->text;
    if (v == "off") q.prealloc = measure::Prealloc::off;
    else if (v == "metadata") q.prealloc = measure::Prealloc::metadata;
    else if (v == "falloc") q.prealloc = measure::Prealloc::falloc;
    else if (v == "full") q.prealloc = measure::Prealloc::full;
    else {
      report_error(program, "invalid parameter value: " + v);
      return 1;
    }
  }
  q.has_backing_file = parsed.last("backing_file") != nullptr;
  if (const ParsedOption* o = parsed.last("encrypt.format"); o != nullptr && o->text == "luks") {
    // docs/divergences.md#measure-luks
    report_error(program, "measure with encrypt.format=luks is not supported by instar yet");
    return 1;
  }
  if (source) {
    size_t index = measure::cluster_size_index(q.cluster_size);
    src.data_bytes = source->data_clusters[index] << (9 + index);
    src.bitmaps_supported = source->format == "qcow2" && source->bitmaps_supported;
    if (src.bitmaps_supported) {
      auto bitmaps = measure::qcow2_bitmaps_size(source->bitmaps.data(), source->bitmaps.size(), source->length,
                                                 q.cluster_size);
      if (bitmaps.is_error()) return fail(bitmaps.error());
      src.bitmaps_size = bitmaps.value();
    }
  }
  auto m = measure::plan_qcow2(q, source ? &src : nullptr);
  if (m.is_error()) return fail(m.error());
  render(m.value(), opts->json);
  return 0;
}

}  // namespace instar::cli
