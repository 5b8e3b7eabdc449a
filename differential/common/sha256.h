// sha256.h: SHA-256 digests of recorded files (so a record can be checked with sha256sum), computed by
// OpenSSL's libcrypto (Debian's libssl-dev).
#pragma once

#include <cstddef>
#include <memory>
#include <string>

namespace instar::diff {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(const void* data, size_t size);
  // The digest as 64 lowercase hex digits; the object must not be used afterwards.
  std::string hex_digest();

 private:
  struct Context;
  std::unique_ptr<Context> context_;
};

}  // namespace instar::diff
