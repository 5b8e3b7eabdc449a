// luks_header.h: the LUKS1 partition header, validated and described as qemu's LUKS driver does.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "core/base/bytes.h"
#include "core/base/result.h"

namespace instar {

// The partition header proper: magic .. the eighth key slot (big-endian throughout).
inline constexpr size_t kLuksHeaderBytes = 592;
inline constexpr uint32_t kLuksSectorBytes = 512;
inline constexpr uint32_t kLuksStripes = 4000;
inline constexpr uint32_t kLuksKeySlotActive = 0x00AC71F3;
inline constexpr uint32_t kLuksKeySlotDisabled = 0x0000DEAD;

struct LuksSlot {
  bool active;  // qemu reports iters and stripes only for active slots
  uint32_t iters;
  uint32_t stripes;
  uint64_t key_offset_bytes;
};

// What qemu's LUKS get_info reports (`qemu-img info`, "encrypt:" of a qcow2 or the luks format).
// The names are qemu's QAPI enum spellings, NUL-terminated.
struct LuksInfo {
  char cipher_alg[24];      // "aes-256", "twofish-128", ... (cipher_name + key_bytes)
  char cipher_mode[16];     // "xts", "cbc", "ecb", "ctr"
  char ivgen_alg[16];       // "plain", "plain64", "essiv"
  char ivgen_hash_alg[16];  // only with essiv
  bool has_ivgen_hash_alg;
  char hash_alg[16];  // "sha256", ...
  char uuid[41];      // up to 40 bytes, cut at the first NUL (g_strndup)
  uint64_t payload_offset_bytes;
  uint32_t master_key_iters;
  bool detached_header;  // qemu 9.0+ prints it: payload offset 0
  LuksSlot slots[8];
};

// What differs between the qemu versions instar follows.
struct LuksParseOptions {
  bool sm3_hash_known;        // the "sm3" hash name: qemu 10.0 knows it, 7.2 does not
  bool overlap_by_last_byte;  // key slot overlap by ranges_overlap() on 64-bit last bytes (10.0);
                              // 7.2 compares 32-bit start + length sums, so empty or wrapping ranges differ
};
inline constexpr LuksParseOptions kLuksQemu72{false, false};
inline constexpr LuksParseOptions kLuksQemu100{true, true};

// Validates `header` (at least kLuksHeaderBytes; the caller zero-pads a read past the end of the
// file, as qemu does) in qemu's order: qcrypto_block_luks_check_header, then the parse of the
// cipher, mode, IV generator and hash names. Messages follow qemu; where qemu embeds a string or a
// second number, Error.message is a close static text and format_luks_error() gives the exact one.
Result<LuksInfo> parse_luks_header(ByteSpan header, const LuksParseOptions& options = kLuksQemu100);

// qemu's exact error text for `header` (NUL-terminated, cut to fit `capacity`); returns its length,
// or 0 when the header is valid.
size_t format_luks_error(ByteSpan header, char* out, size_t capacity,
                         const LuksParseOptions& options = kLuksQemu100);

}  // namespace instar
