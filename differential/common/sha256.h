// sha256.h: SHA-256 (FIPS 180-4), so recorded file digests can be checked with sha256sum.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace instar::diff {

class Sha256 {
 public:
  Sha256();
  void update(const void* data, size_t size);
  // The digest as 64 lowercase hex digits; the object must not be used afterwards.
  std::string hex_digest();

 private:
  void compress(const unsigned char* block);

  uint32_t state_[8];
  unsigned char buffer_[64];
  size_t buffered_ = 0;
  uint64_t length_ = 0;  // bytes fed so far
};

}  // namespace instar::diff
