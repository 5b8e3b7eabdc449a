// luks_header.cc: LUKS1 header checks and algorithm-name parsing in qemu's order and arithmetic.
#include "core/crypto/luks_header.h"

#include "core/base/span_reader.h"

namespace instar {
namespace {

// Byte offsets of the LUKS1 partition header.
constexpr size_t kMagic = 0;
constexpr size_t kVersion = 6;
constexpr size_t kCipherName = 8;
constexpr size_t kCipherMode = 40;
constexpr size_t kHashSpec = 72;
constexpr size_t kNameField = 32;
constexpr size_t kPayloadOffset = 104;
constexpr size_t kKeyBytes = 108;
constexpr size_t kMasterKeyIterations = 164;
constexpr size_t kUuid = 168;
constexpr size_t kUuidField = 40;
constexpr size_t kKeySlots = 208;
constexpr size_t kKeySlotBytes = 48;
// Within a key slot.
constexpr size_t kSlotActive = 0;
constexpr size_t kSlotIterations = 4;
constexpr size_t kSlotKeyOffset = 40;
constexpr size_t kSlotStripes = 44;

constexpr uint8_t kLuksMagic[6] = {'L', 'U', 'K', 'S', 0xba, 0xbe};
// The partition header and key slot headers fill the first 4096 bytes: 8 sectors.
constexpr uint32_t kHeaderSectors = 4096 / kLuksSectorBytes;

enum class CipherFamily : uint8_t { aes, cast5, serpent, twofish };

struct CipherSize {
  uint32_t key_bytes;
  const char* alg;  // QCryptoCipherAlgo spelling
};
struct CipherName {
  const char* name;  // as written in the header's cipher_name
  CipherFamily family;
  const CipherSize* sizes;
  size_t count;
};
constexpr CipherSize kAesSizes[] = {{16, "aes-128"}, {24, "aes-192"}, {32, "aes-256"}};
constexpr CipherSize kCast5Sizes[] = {{16, "cast5-128"}};
constexpr CipherSize kSerpentSizes[] = {{16, "serpent-128"}, {24, "serpent-192"}, {32, "serpent-256"}};
constexpr CipherSize kTwofishSizes[] = {{16, "twofish-128"}, {24, "twofish-192"}, {32, "twofish-256"}};
// qemu 10.0 lists "sm4" only when built with it; Debian's build is not, so neither version accepts it.
constexpr CipherName kCiphers[] = {
    {"aes", CipherFamily::aes, kAesSizes, 3},
    {"cast5", CipherFamily::cast5, kCast5Sizes, 1},
    {"serpent", CipherFamily::serpent, kSerpentSizes, 3},
    {"twofish", CipherFamily::twofish, kTwofishSizes, 3},
};

struct HashName {
  const char* name;
  uint32_t digest_bytes;
  bool sm3;
};
constexpr HashName kHashes[] = {
    {"md5", 16, false},    {"sha1", 20, false},   {"sha224", 28, false},    {"sha256", 32, false},
    {"sha384", 48, false}, {"sha512", 64, false}, {"ripemd160", 20, false}, {"sm3", 32, true},
};

constexpr const char* kModes[] = {"ecb", "cbc", "xts", "ctr"};
constexpr const char* kIvGens[] = {"plain", "plain64", "essiv"};
constexpr size_t kModeXts = 2;
constexpr size_t kIvGenEssiv = 2;

// Where qemu's message needs more than Error carries: its exact template ("{s}" a string,
// "{0}"/"{1}" signed numbers) and the values.
struct Failure {
  const char* exact = nullptr;
  int64_t n0 = 0;
  int64_t n1 = 0;
  ByteSpan subject;
  const char* static_subject = nullptr;
};

Error fail(Failure* f, Error error, const char* exact, int64_t n0 = 0, int64_t n1 = 0, ByteSpan subject = {},
           const char* static_subject = nullptr) {
  if (f != nullptr) {
    f->exact = exact;
    f->n0 = n0;
    f->n1 = n1;
    f->subject = subject;
    f->static_subject = static_subject;
  }
  return error;
}

bool span_is(ByteSpan s, const char* name) {
  size_t n = c_string_length(name);
  return s.size == n && bytes_equal(s.data, name, n);
}

// The bytes of a NUL-terminated field up to its NUL (the field is known to hold one).
ByteSpan c_string(ByteSpan field) {
  size_t n = 0;
  while (n < field.size && field[n] != 0) n++;
  return field.subspan(0, n);
}

bool has_nul(ByteSpan field) { return c_string(field).size < field.size; }

size_t find_byte(ByteSpan s, uint8_t b) {
  for (size_t i = 0; i < s.size; i++)
    if (s[i] == b) return i;
  return s.size;
}

template <size_t N>
void copy_name(char (&dst)[N], const char* src) {
  size_t i = 0;
  for (; i + 1 < N && src[i] != '\0'; i++) dst[i] = src[i];
  dst[i] = '\0';
}

const HashName* find_hash(ByteSpan name, const LuksParseOptions& options) {
  for (const HashName& h : kHashes)
    if (span_is(name, h.name) && (!h.sm3 || options.sm3_hash_known)) return &h;
  return nullptr;
}

// Sectors of key material for `stripes` stripes, as qemu computes it (a 32-bit product, then
// rounded up to whole sectors and to the header's 8-sector alignment).
uint32_t split_key_sectors(uint32_t key_bytes, uint32_t stripes) {
  uint32_t split_key_bytes = key_bytes * stripes;  // wraps like qemu's unsigned int product
  uint64_t sectors = (uint64_t{split_key_bytes} + kLuksSectorBytes - 1) / kLuksSectorBytes;
  return static_cast<uint32_t>((sectors + kHeaderSectors - 1) & ~uint64_t{kHeaderSectors - 1});
}

// Whether two key slots' key material overlaps, as the qemu version compares it.
bool slots_overlap(uint32_t start1, uint32_t len1, uint32_t start2, uint32_t len2,
                   const LuksParseOptions& options) {
  if (options.overlap_by_last_byte) {
    // ranges_overlap(): 64-bit last bytes, so an empty range ends just before its start.
    uint64_t last1 = uint64_t{start1} + len1 - 1;
    uint64_t last2 = uint64_t{start2} + len2 - 1;
    return !(last2 < uint64_t{start1} || last1 < uint64_t{start2});
  }
  return static_cast<uint32_t>(start1 + len1) > start2 && static_cast<uint32_t>(start2 + len2) > start1;
}

// qcrypto_block_luks_check_header().
Result<void> check_header(ByteSpan h, const LuksParseOptions& options, Failure* f) {
  if (!bytes_equal(h.data + kMagic, kLuksMagic, sizeof(kLuksMagic)))
    return fail(f, make_error(Errc::invalid, "Volume is not in LUKS format"), "Volume is not in LUKS format");
  uint16_t version = load_u16_be(h, kVersion);
  if (version != 1)
    return fail(f, make_error(Errc::unsupported, "LUKS version {} is not supported", version),
                "LUKS version {0} is not supported", version);
  if (!has_nul(h.subspan(kCipherName, kNameField)))
    return fail(f, make_error(Errc::invalid, "LUKS header cipher name is not NUL terminated"),
                "LUKS header cipher name is not NUL terminated");
  if (!has_nul(h.subspan(kCipherMode, kNameField)))
    return fail(f, make_error(Errc::invalid, "LUKS header cipher mode is not NUL terminated"),
                "LUKS header cipher mode is not NUL terminated");
  if (!has_nul(h.subspan(kHashSpec, kNameField)))
    return fail(f, make_error(Errc::invalid, "LUKS header hash spec is not NUL terminated"),
                "LUKS header hash spec is not NUL terminated");

  uint32_t payload_sector = load_u32_be(h, kPayloadOffset);
  if (payload_sector < kHeaderSectors)
    return fail(f, make_error(Errc::invalid, "LUKS payload is overlapping with the header"),
                "LUKS payload is overlapping with the header");
  if (load_u32_be(h, kMasterKeyIterations) == 0)
    return fail(f, make_error(Errc::invalid, "LUKS key iteration count is zero"),
                "LUKS key iteration count is zero");

  uint32_t key_bytes = load_u32_be(h, kKeyBytes);
  for (uint32_t i = 0; i < 8; i++) {
    size_t slot = kKeySlots + i * kKeySlotBytes;
    uint32_t active = load_u32_be(h, slot + kSlotActive);
    uint32_t start1 = load_u32_be(h, slot + kSlotKeyOffset);
    uint32_t stripes1 = load_u32_be(h, slot + kSlotStripes);
    uint32_t len1 = split_key_sectors(key_bytes, stripes1);

    if (stripes1 != kLuksStripes)
      return fail(f, make_error(Errc::invalid, "Keyslot {} is corrupted (stripes != 4000)", i),
                  "Keyslot {0} is corrupted (stripes {1} != 4000)", i, static_cast<int32_t>(stripes1));
    if (active != kLuksKeySlotDisabled && active != kLuksKeySlotActive)
      return fail(f, make_error(Errc::invalid, "Keyslot {} state (active/disable) is corrupted", i),
                  "Keyslot {0} state (active/disable) is corrupted", i);
    if (active == kLuksKeySlotActive && load_u32_be(h, slot + kSlotIterations) == 0)
      return fail(f, make_error(Errc::invalid, "Keyslot {} iteration count is zero", i),
                  "Keyslot {0} iteration count is zero", i);
    if (start1 < kHeaderSectors)
      return fail(f, make_error(Errc::invalid, "Keyslot {} is overlapping with the LUKS header", i),
                  "Keyslot {0} is overlapping with the LUKS header", i);
    if (static_cast<uint32_t>(start1 + len1) > payload_sector)  // 32-bit sum, as in qemu
      return fail(f, make_error(Errc::invalid, "Keyslot {} is overlapping with the encrypted payload", i),
                  "Keyslot {0} is overlapping with the encrypted payload", i);

    for (uint32_t j = i + 1; j < 8; j++) {
      size_t other = kKeySlots + j * kKeySlotBytes;
      uint32_t start2 = load_u32_be(h, other + kSlotKeyOffset);
      uint32_t len2 = split_key_sectors(key_bytes, load_u32_be(h, other + kSlotStripes));
      if (slots_overlap(start1, len1, start2, len2, options))
        return fail(
            f, make_error(Errc::invalid, "Keyslot {} is overlapping with a later keyslot in the header", i),
            "Keyslots {0} and {1} are overlapping in the header", i, j);
    }
  }
  return ok();
}

Result<LuksInfo> parse(ByteSpan h, const LuksParseOptions& options, Failure* f) {
  if (h.size < kLuksHeaderBytes)
    return fail(f, make_error(Errc::truncated, "LUKS header truncated"), "LUKS header truncated");
  INSTAR_TRY(check_header(h, options, f));

  LuksInfo info{};
  uint32_t key_bytes = load_u32_be(h, kKeyBytes);

  // cipher_mode is "<mode>-<ivgen>[:<ivhash>]", e.g. "xts-plain64" or "cbc-essiv:sha256".
  ByteSpan mode_spec = c_string(h.subspan(kCipherMode, kNameField));
  size_t dash = find_byte(mode_spec, '-');
  if (dash == mode_spec.size)
    return fail(f, make_error(Errc::invalid, "Unexpected cipher mode string format"),
                "Unexpected cipher mode string format '{s}'", 0, 0, mode_spec);
  ByteSpan mode_name = mode_spec.subspan(0, dash);
  ByteSpan ivgen_spec = mode_spec.subspan(dash + 1);
  size_t colon = find_byte(ivgen_spec, ':');
  ByteSpan ivgen_name = ivgen_spec.subspan(0, colon);
  bool has_ivhash = colon < ivgen_spec.size;

  // qemu looks the IV hash up first, even for IV generators that ignore it.
  const HashName* ivhash = nullptr;
  if (has_ivhash) {
    ByteSpan ivhash_name = ivgen_spec.subspan(colon + 1);
    ivhash = find_hash(ivhash_name, options);
    if (ivhash == nullptr)
      return fail(f, make_error(Errc::unsupported, "Hash algorithm not supported"),
                  "Hash algorithm '{s}' not supported", 0, 0, ivhash_name);
  }

  size_t mode = sizeof(kModes) / sizeof(kModes[0]);
  for (size_t i = 0; i < sizeof(kModes) / sizeof(kModes[0]); i++)
    if (span_is(mode_name, kModes[i])) mode = i;
  if (mode == sizeof(kModes) / sizeof(kModes[0]))
    return fail(f, make_error(Errc::unsupported, "Cipher mode not supported"),
                "Cipher mode '{s}' not supported", 0, 0, mode_name);

  // XTS keys hold two cipher keys; qemu halves with integer division.
  uint32_t cipher_key_bytes = mode == kModeXts ? key_bytes / 2 : key_bytes;
  ByteSpan cipher_name = c_string(h.subspan(kCipherName, kNameField));
  const CipherName* cipher = nullptr;
  const CipherSize* size = nullptr;
  for (const CipherName& c : kCiphers) {
    if (!span_is(cipher_name, c.name)) continue;
    for (size_t j = 0; j < c.count; j++) {
      if (c.sizes[j].key_bytes == cipher_key_bytes) {
        cipher = &c;
        size = &c.sizes[j];
      }
    }
  }
  if (size == nullptr)
    return fail(
        f, make_error(Errc::unsupported, "Algorithm with key size {} bytes not supported", cipher_key_bytes),
        "Algorithm '{s}' with key size {0} bytes not supported", static_cast<int32_t>(cipher_key_bytes), 0,
        cipher_name);

  ByteSpan hash_name = c_string(h.subspan(kHashSpec, kNameField));
  const HashName* hash = find_hash(hash_name, options);
  if (hash == nullptr)
    return fail(f, make_error(Errc::unsupported, "Hash algorithm not supported"),
                "Hash algorithm '{s}' not supported", 0, 0, hash_name);

  size_t ivgen = sizeof(kIvGens) / sizeof(kIvGens[0]);
  for (size_t i = 0; i < sizeof(kIvGens) / sizeof(kIvGens[0]); i++)
    if (span_is(ivgen_name, kIvGens[i])) ivgen = i;
  if (ivgen == sizeof(kIvGens) / sizeof(kIvGens[0]))
    return fail(f, make_error(Errc::unsupported, "IV generator not supported"),
                "IV generator '{s}' not supported", 0, 0, ivgen_name);

  if (ivgen == kIvGenEssiv) {
    if (!has_ivhash)
      return fail(f, make_error(Errc::invalid, "Missing IV generator hash specification"),
                  "Missing IV generator hash specification");
    // ESSIV keys a cipher of the family with the digest; a digest of the cipher's own key size is
    // always fine, otherwise the family needs a member with that key size.
    uint32_t digest = ivhash->digest_bytes;
    if (digest != size->key_bytes) {
      bool sized = digest == 16 || digest == 24 || digest == 32;
      switch (cipher->family) {
        case CipherFamily::aes:
          if (!sized)
            return fail(f, make_error(Errc::unsupported, "No AES cipher with key size {} available", digest),
                        "No AES cipher with key size {0} available", digest);
          break;
        case CipherFamily::serpent:
          if (!sized)
            return fail(f,
                        make_error(Errc::unsupported, "No Serpent cipher with key size {} available", digest),
                        "No Serpent cipher with key size {0} available", digest);
          break;
        case CipherFamily::twofish:
          if (!sized)
            return fail(f,
                        make_error(Errc::unsupported, "No Twofish cipher with key size {} available", digest),
                        "No Twofish cipher with key size {0} available", digest);
          break;
        case CipherFamily::cast5:
          return fail(f, make_error(Errc::unsupported, "Cipher not supported with essiv"),
                      "Cipher {s} not supported with essiv", 0, 0, ByteSpan(), size->alg);
      }
    }
    copy_name(info.ivgen_hash_alg, ivhash->name);
    info.has_ivgen_hash_alg = true;
  }

  copy_name(info.cipher_alg, size->alg);
  copy_name(info.cipher_mode, kModes[mode]);
  copy_name(info.ivgen_alg, kIvGens[ivgen]);
  copy_name(info.hash_alg, hash->name);

  ByteSpan uuid = c_string(h.subspan(kUuid, kUuidField));
  for (size_t i = 0; i < uuid.size; i++) info.uuid[i] = static_cast<char>(uuid[i]);
  info.uuid[uuid.size] = '\0';

  info.payload_offset_bytes = uint64_t{load_u32_be(h, kPayloadOffset)} * kLuksSectorBytes;
  info.detached_header = info.payload_offset_bytes == 0;
  info.master_key_iters = load_u32_be(h, kMasterKeyIterations);
  for (size_t i = 0; i < 8; i++) {
    size_t slot = kKeySlots + i * kKeySlotBytes;
    info.slots[i].active = load_u32_be(h, slot + kSlotActive) == kLuksKeySlotActive;
    info.slots[i].iters = load_u32_be(h, slot + kSlotIterations);
    info.slots[i].stripes = load_u32_be(h, slot + kSlotStripes);
    info.slots[i].key_offset_bytes = uint64_t{load_u32_be(h, slot + kSlotKeyOffset)} * kLuksSectorBytes;
  }
  return info;
}

// Appends to a bounded, always NUL-terminated buffer.
class TextSink {
 public:
  TextSink(char* out, size_t capacity) : out_(out), capacity_(capacity) {
    if (capacity_ > 0) out_[0] = '\0';
  }
  void put(char c) {
    if (len_ + 1 < capacity_) {
      out_[len_++] = c;
      out_[len_] = '\0';
    }
  }
  void put(const char* s) {
    while (*s != '\0') put(*s++);
  }
  void put(ByteSpan s) {
    for (size_t i = 0; i < s.size; i++) put(static_cast<char>(s[i]));
  }
  void put_number(int64_t v) {
    char digits[20];
    size_t n = 0;
    uint64_t u = v < 0 ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
    do {
      digits[n++] = static_cast<char>('0' + u % 10);
      u /= 10;
    } while (u != 0);
    if (v < 0) put('-');
    while (n > 0) put(digits[--n]);
  }
  size_t length() const { return len_; }

 private:
  char* out_;
  size_t capacity_;
  size_t len_ = 0;
};

}  // namespace

Result<LuksInfo> parse_luks_header(ByteSpan header, const LuksParseOptions& options) {
  return parse(header, options, nullptr);
}

size_t format_luks_error(ByteSpan header, char* out, size_t capacity, const LuksParseOptions& options) {
  Failure f;
  if (parse(header, options, &f).is_ok()) {
    if (capacity > 0) out[0] = '\0';
    return 0;
  }
  TextSink sink(out, capacity);
  for (const char* p = f.exact; *p != '\0'; p++) {
    if (p[0] == '{' && p[1] == 's' && p[2] == '}') {
      if (f.static_subject != nullptr)
        sink.put(f.static_subject);
      else
        sink.put(f.subject);
      p += 2;
    } else if (p[0] == '{' && (p[1] == '0' || p[1] == '1') && p[2] == '}') {
      sink.put_number(p[1] == '0' ? f.n0 : f.n1);
      p += 2;
    } else {
      sink.put(*p);
    }
  }
  return sink.length();
}

}  // namespace instar
