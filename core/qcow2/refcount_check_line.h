// refcount_check_line.h: one line of qemu's check messages, formatted as
// printf would, and the errno texts a failed check prints. Internal to the
// refcount check (refcount_check*.cc).
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "core/base/bytes.h"
#include "core/qcow2/refcount_check.h"

namespace instar::qcow2::check_internal {

// One message line; numbers are printed as printf would.
class Line {
 public:
  Line& text(const char* s) {
    while (*s != '\0') put(static_cast<uint8_t>(*s++));
    return *this;
  }
  Line& bytes(ByteSpan s) {
    for (size_t i = 0; i < s.size; i++) put(s[i]);
    return *this;
  }
  Line& dec(uint64_t v) { return number(v, 10); }
  Line& sdec(int64_t v) {
    if (v < 0) {
      put('-');
      return number(0 - static_cast<uint64_t>(v), 10);
    }
    return number(static_cast<uint64_t>(v), 10);
  }
  Line& hex(uint64_t v) { return number(v, 16); }
  // printf's %#x: "0x" in front, except for zero.
  Line& alt_hex(uint64_t v) {
    if (v != 0) text("0x");
    return number(v, 16);
  }
  ByteSpan span() const { return ByteSpan(buf_, used_); }

 private:
  Line& number(uint64_t v, unsigned base) {
    char digits[24];
    int n = 0;
    do {
      digits[n++] = "0123456789abcdef"[v % base];
      v /= base;
    } while (v != 0);
    while (n > 0) put(static_cast<uint8_t>(digits[--n]));
    return *this;
  }
  void put(uint8_t c) {
    if (used_ < sizeof buf_) buf_[used_++] = c;
  }
  uint8_t buf_[2400];
  size_t used_ = 0;
};

inline const char* strerror_text(int error) {
  switch (error) {
    case kCheckEio:
      return "Input/output error";
    case kCheckEnomem:
      return "Cannot allocate memory";
    case kCheckEinval:
      return "Invalid argument";
    default:
      return "File too large";
  }
}

// Where the lines go while a repair is planned silently (they are logged once it is sure).
class MutedLog final : public CheckLog {
 public:
  void line(ByteSpan) override {}
  void error_line(ByteSpan) override {}
};

}  // namespace instar::qcow2::check_internal
