// map_render.cc: the two output formats of qemu-img map. A map can have hundreds of thousands of lines:
// numbers are formatted by hand into a fixed buffer that goes out in large writes (printf per line and one
// string of the whole output, grown by doubling, were most of the host's time; docs/bench.md).
#include "cli/map/map_render.h"

#include <cstring>

#include "core/ops/map_record.h"

namespace instar::cli {

namespace {

class Output {
 public:
  explicit Output(std::FILE* file) : file_(file) {}
  Output(const Output&) = delete;
  Output& operator=(const Output&) = delete;
  ~Output() { flush(); }

  void text(const char* s) { bytes(s, std::strlen(s)); }
  void bytes(const char* s, size_t n) {
    while (n > 0) {
      if (used_ == sizeof buf_) flush();
      size_t piece = n < sizeof buf_ - used_ ? n : sizeof buf_ - used_;
      std::memcpy(buf_ + used_, s, piece);
      used_ += piece;
      s += piece;
      n -= piece;
    }
  }
  void decimal(uint64_t v) {
    char digits[20];
    size_t n = sizeof digits;
    do {
      digits[--n] = static_cast<char>('0' + v % 10);
      v /= 10;
    } while (v != 0);
    bytes(digits + n, sizeof digits - n);
  }
  // printf's "%#-16" PRIx64: 0x-prefixed lower-case hex (plain "0" for zero), left-justified in 16 columns.
  void hex16(uint64_t v) {
    char field[18];
    size_t n = 0;
    if (v == 0) {
      field[n++] = '0';
    } else {
      char digits[16];
      size_t d = 0;
      for (; v != 0; v >>= 4) digits[d++] = "0123456789abcdef"[v & 15];
      field[n++] = '0';
      field[n++] = 'x';
      while (d > 0) field[n++] = digits[--d];
    }
    while (n < 16) field[n++] = ' ';
    bytes(field, n);
  }
  void flush() {
    if (used_ > 0) std::fwrite(buf_, 1, used_, file_);
    used_ = 0;
  }

 private:
  std::FILE* file_;
  char buf_[64 << 10];
  size_t used_ = 0;
};

void flag(Output& out, const char* name, uint64_t flags, uint64_t bit) {
  out.text(name);
  out.text((flags & bit) ? "true" : "false");
}

}  // namespace

void render_map_json(const std::vector<MapEntry>& entries, bool complete, const Profile& profile, std::FILE* file) {
  // qemu 8.2 added "compressed".
  bool compressed = profile.major > 8 || (profile.major == 8 && profile.minor >= 2);
  Output out(file);
  out.text("[");
  for (size_t i = 0; i < entries.size(); i++) {
    const MapEntry& e = entries[i];
    out.text("{ \"start\": ");
    out.decimal(e.start);
    out.text(", \"length\": ");
    out.decimal(e.length);
    out.text(", \"depth\": ");
    out.decimal(e.depth);
    flag(out, ", \"present\": ", e.flags, kMapPresent);
    flag(out, ", \"zero\": ", e.flags, kMapZero);
    flag(out, ", \"data\": ", e.flags, kMapData);
    if (compressed) flag(out, ", \"compressed\": ", e.flags, kMapCompressed);
    if (e.has_offset) {
      out.text(", \"offset\": ");
      out.decimal(e.offset);
    }
    out.text("}");
    if (i + 1 < entries.size() || !complete) out.text(",\n");
  }
  if (complete) out.text("]\n");
}

void render_map_human(const std::vector<MapEntry>& entries, const std::vector<std::string>& files,
                      std::FILE* file, std::string& error) {
  Output out(file);
  out.text("Offset          Length          Mapped to       File\n");
  for (const MapEntry& e : entries) {
    bool data = e.flags & kMapData, zero = e.flags & kMapZero;
    if (data && !e.has_offset) {
      error = "File contains external, encrypted or compressed clusters.";
      return;
    }
    if (data && !zero) {
      out.hex16(e.start);
      out.hex16(e.length);
      out.hex16(e.has_offset ? e.offset : 0);
      if (e.file < files.size()) out.bytes(files[e.file].data(), files[e.file].size());
      out.text("\n");
    }
  }
}

}  // namespace instar::cli
