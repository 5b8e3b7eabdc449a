// text.h: a bounded, always NUL-terminated text builder (core/ has no snprintf).
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace instar {

class TextBuilder {
 public:
  TextBuilder(char* out, size_t size) : out_(out), size_(size) {
    if (size_ > 0) out_[0] = '\0';
  }

  void append(const char* s, size_t max_len = SIZE_MAX) {
    for (size_t i = 0; i < max_len && s[i] != '\0'; i++) put(s[i]);
  }
  void append_hex(uint64_t v) { append_number(v, 16); }
  // printf's %#x: "0x" in front, except for zero.
  void append_alt_hex(uint64_t v) {
    if (v != 0) append("0x");
    append_number(v, 16);
  }
  void append_decimal(uint64_t v) { append_number(v, 10); }
  void put(char c) {
    if (used_ + 1 < size_) {
      out_[used_++] = c;
      out_[used_] = '\0';
    }
  }
  const char* c_str() const { return out_; }
  size_t length() const { return used_; }

 private:
  void append_number(uint64_t v, unsigned base) {
    char digits[20];
    int n = 0;
    do {
      digits[n++] = "0123456789abcdef"[v % base];
      v /= base;
    } while (v != 0);
    while (n > 0) put(digits[--n]);
  }

  char* out_;
  size_t size_;
  size_t used_ = 0;
};

}  // namespace instar
