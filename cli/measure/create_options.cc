// create_options.cc: QemuOpts parsing of creation options (util/qemu-option.c's rules).
#include "cli/measure/create_options.h"

#include <cerrno>
#include <cstdlib>

#include "cli/measure/size_text.h"

namespace instar::cli {

namespace {

using T = OptionType;

// The file protocol's options, which qemu-img measure appends to every format's.
const std::vector<OptionDesc> kFileOptions = {
    {"size", T::size}, {"preallocation", T::string}, {"nocow", T::boolean}, {"extent_size_hint", T::size}};

std::vector<OptionDesc> with_file(std::vector<OptionDesc> own) {
  for (const OptionDesc& f : kFileOptions) {
    bool present = false;
    for (const OptionDesc& o : own) present = present || std::string(o.name) == f.name;
    if (!present) own.push_back(f);
  }
  return own;
}

const std::vector<OptionDesc> kRaw = with_file({{"size", T::size}});
const std::vector<OptionDesc> kQcow2 = with_file({
    {"size", T::size},
    {"compat", T::string},
    {"backing_file", T::string},
    {"backing_fmt", T::string},
    {"data_file", T::string},
    {"data_file_raw", T::boolean},
    {"encryption", T::boolean},
    {"encrypt.format", T::string},
    {"encrypt.key-secret", T::string},
    {"encrypt.cipher-alg", T::string},
    {"encrypt.cipher-mode", T::string},
    {"encrypt.ivgen-alg", T::string},
    {"encrypt.ivgen-hash-alg", T::string},
    {"encrypt.hash-alg", T::string},
    {"encrypt.iter-time", T::number},
    {"cluster_size", T::size},
    {"preallocation", T::string},
    {"lazy_refcounts", T::boolean},
    {"refcount_bits", T::number},
    {"compression_type", T::string},
    {"extended_l2", T::boolean},
});
const std::vector<OptionDesc> kVmdk = with_file({{"size", T::size},
                                                 {"adapter_type", T::string},
                                                 {"backing_file", T::string},
                                                 {"backing_fmt", T::string},
                                                 {"compat6", T::boolean},
                                                 {"hwversion", T::string},
                                                 {"toolsversion", T::string},
                                                 {"subformat", T::string},
                                                 {"zeroed_grain", T::boolean}});
const std::vector<OptionDesc> kVpc =
    with_file({{"size", T::size}, {"subformat", T::string}, {"force_size", T::boolean}});
const std::vector<OptionDesc> kVdi = with_file({{"size", T::size}, {"static", T::boolean}});
const std::vector<OptionDesc> kVhdx = with_file({{"size", T::size},
                                                 {"log_size", T::size},
                                                 {"block_size", T::size},
                                                 {"subformat", T::string},
                                                 {"block_state_zero", T::boolean}});
const std::vector<OptionDesc> kQed = with_file({{"size", T::size},
                                                {"backing_file", T::string},
                                                {"backing_fmt", T::string},
                                                {"cluster_size", T::size},
                                                {"table_size", T::size}});
const std::vector<OptionDesc> kQcow = with_file({{"size", T::size},
                                                 {"backing_file", T::string},
                                                 {"backing_fmt", T::string},
                                                 {"encryption", T::boolean},
                                                 {"encrypt.format", T::string},
                                                 {"encrypt.key-secret", T::string}});
const std::vector<OptionDesc> kParallels = with_file({{"size", T::size}, {"cluster_size", T::size}});
const std::vector<OptionDesc> kLuks72 = with_file({{"size", T::size},
                                                   {"key-secret", T::string},
                                                   {"cipher-alg", T::string},
                                                   {"cipher-mode", T::string},
                                                   {"ivgen-alg", T::string},
                                                   {"ivgen-hash-alg", T::string},
                                                   {"hash-alg", T::string},
                                                   {"iter-time", T::number}});
const std::vector<OptionDesc> kLuks10 = with_file({{"size", T::size},
                                                   {"key-secret", T::string},
                                                   {"cipher-alg", T::string},
                                                   {"cipher-mode", T::string},
                                                   {"ivgen-alg", T::string},
                                                   {"ivgen-hash-alg", T::string},
                                                   {"hash-alg", T::string},
                                                   {"iter-time", T::number},
                                                   {"detached-header", T::boolean}});

// get_opt_value: up to a single ',', with ",," standing for a comma.
size_t read_value(const std::string& s, size_t p, std::string& out) {
  while (p < s.size()) {
    if (s[p] == ',') {
      if (p + 1 < s.size() && s[p + 1] == ',') {
        out.push_back(',');
        p += 2;
        continue;
      }
      break;
    }
    out.push_back(s[p++]);
  }
  return p;
}

bool parse_bool(const std::string& v, bool& out) {
  if (v == "on" || v == "yes" || v == "true" || v == "y") {
    out = true;
    return true;
  }
  if (v == "off" || v == "no" || v == "false" || v == "n") {
    out = false;
    return true;
  }
  return false;
}

}  // namespace

const std::vector<OptionDesc>* creation_options(const std::string& format, bool qemu_10) {
  if (format == "raw") return &kRaw;
  if (format == "qcow2") return &kQcow2;
  if (format == "vmdk") return &kVmdk;
  if (format == "vpc") return &kVpc;
  if (format == "vdi") return &kVdi;
  if (format == "vhdx") return &kVhdx;
  if (format == "qed") return &kQed;
  if (format == "qcow") return &kQcow;
  if (format == "parallels") return &kParallels;
  if (format == "luks") return qemu_10 ? &kLuks10 : &kLuks72;
  if (format == "file" || format == "host_device" || format == "host_cdrom" || format == "nbd" || format == "nvme")
    return &kFileOptions;
  return nullptr;
}

const ParsedOption* ParsedOptions::last(const std::string& name) const {
  for (auto it = options.rbegin(); it != options.rend(); ++it)
    if (it->name == name) return &*it;
  return nullptr;
}

bool valid_option_list(const std::string& text) {
  if (text.empty() || text[0] == ',') return false;
  size_t i = text.size();
  while (i > 0 && text[i - 1] == ',') i--;
  return (text.size() - i) % 2 == 0;
}

std::optional<ParsedOptions> parse_creation_options(const std::string& text, const std::vector<OptionDesc>& descs,
                                                    bool qemu_10, std::vector<std::string>& error_lines,
                                                    std::vector<std::string>* short_forms) {
  ParsedOptions parsed;
  size_t p = 0;
  while (p < text.size()) {
    size_t len = text.find_first_of("=,", p);
    if (len == std::string::npos) len = text.size();
    std::string name = text.substr(p, len - p);
    std::string value;
    if (len < text.size() && text[len] == '=') {
      p = read_value(text, len + 1, value);
    } else {
      // A bare "foo" is foo=on, "nofoo" is foo=off.
      if (short_forms != nullptr) short_forms->push_back(name);
      if (name.rfind("no", 0) == 0) {
        name = name.substr(2);
        value = "off";
      } else {
        value = "on";
      }
      p = len;
    }
    if (p < text.size() && text[p] == ',') p++;
    if (name == "id") continue;
    const OptionDesc* desc = nullptr;
    for (const OptionDesc& d : descs)
      if (name == d.name) desc = &d;
    if (desc == nullptr) {
      error_lines = {"Invalid parameter '" + name + "'"};
      return std::nullopt;
    }
    ParsedOption o;
    o.name = name;
    o.text = value;
    o.type = desc->type;
    switch (desc->type) {
      case T::string:
        break;
      case T::boolean:
        if (!parse_bool(value, o.boolean)) {
          error_lines = {"Parameter '" + name + "' expects 'on' or 'off'"};
          return std::nullopt;
        }
        break;
      case T::number: {
        errno = 0;
        char* end = nullptr;
        o.number = std::strtoull(value.c_str(), &end, 0);
        if (end == value.c_str() || *end != '\0' || errno != 0) {
          error_lines = {"Parameter '" + name + "' expects a number"};
          return std::nullopt;
        }
        break;
      }
      case T::size: {
        ParsedSize size = parse_qemu_size(value, qemu_10);
        if (size.status == SizeParse::out_of_range) {
          error_lines = {"Value '" + value + "' is out of range for parameter '" + name + "'"};
          return std::nullopt;
        }
        if (size.status != SizeParse::ok) {
          error_lines = {"Parameter '" + name + "' expects a non-negative number below 2^64",
                         "\nOptional suffix k, M, G, T, P or E means kilo-, mega-, giga-, tera-, peta-",
                         "\nand exabytes, respectively."};
          return std::nullopt;
        }
        o.number = size.value;
        break;
      }
    }
    parsed.options.push_back(std::move(o));
  }
  return parsed;
}

}  // namespace instar::cli
