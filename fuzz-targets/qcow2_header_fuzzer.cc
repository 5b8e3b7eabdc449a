// qcow2_header_fuzzer.cc: the qcow2 header, its table checks, extensions and unsupported-feature text.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>

#include "core/qcow2/header.h"
#include "fuzz-targets/fuzz_support.h"

namespace {

using instar::ByteSpan;
using instar::fuzz::span_within;
namespace qcow2 = instar::qcow2;

// The extension area is at most one cluster: 2 MiB with the largest clusters.
constexpr size_t kMaxArea = size_t{1} << qcow2::kMaxClusterBits;

void check_header(const qcow2::Header& h) {
  INSTAR_FUZZ_CHECK(h.version == 2 || h.version == 3);
  INSTAR_FUZZ_CHECK(h.cluster_bits >= qcow2::kMinClusterBits && h.cluster_bits <= qcow2::kMaxClusterBits);
  if (h.version == 2) {
    INSTAR_FUZZ_CHECK(h.header_length == qcow2::kV2HeaderLength);
    INSTAR_FUZZ_CHECK(h.incompatible_features == 0 && h.compatible_features == 0 &&
                      h.autoclear_features == 0);
    INSTAR_FUZZ_CHECK(h.refcount_order == 4);
  } else {
    INSTAR_FUZZ_CHECK(h.header_length >= qcow2::kV3MinHeaderLength);
  }
  INSTAR_FUZZ_CHECK(h.header_length <= h.cluster_size());
  INSTAR_FUZZ_CHECK(h.backing_file_offset <= h.cluster_size());
  INSTAR_FUZZ_CHECK(h.extensions_end() <= h.cluster_size());
  bool zstd = h.compression_type == qcow2::kCompressionZstd;
  INSTAR_FUZZ_CHECK(zstd || h.compression_type == qcow2::kCompressionZlib);
  INSTAR_FUZZ_CHECK(zstd == ((h.incompatible_features & qcow2::kIncompatCompression) != 0));
}

void check_tables(const qcow2::Header& h) {
  uint64_t cluster = h.cluster_size();
  INSTAR_FUZZ_CHECK(h.refcount_order <= 6);
  INSTAR_FUZZ_CHECK(h.crypt_method <= qcow2::kCryptLuks);
  if (h.extended_l2()) INSTAR_FUZZ_CHECK(cluster >= 32 * 512);
  INSTAR_FUZZ_CHECK(h.refcount_table_clusters >= 1);
  INSTAR_FUZZ_CHECK(uint64_t{h.refcount_table_clusters} * cluster <= qcow2::kMaxRefcountTableBytes);
  INSTAR_FUZZ_CHECK(h.nb_snapshots <= qcow2::kMaxSnapshots);
  INSTAR_FUZZ_CHECK(uint64_t{h.l1_size} * qcow2::kL1EntrySize <= qcow2::kMaxL1Bytes);
  INSTAR_FUZZ_CHECK(h.refcount_table_offset % cluster == 0);
  INSTAR_FUZZ_CHECK(h.snapshots_offset % cluster == 0);
  INSTAR_FUZZ_CHECK(h.l1_table_offset % cluster == 0);
  // The L1 table maps the whole virtual size.
  unsigned entry_bits = h.extended_l2() ? 4 : 3;
  unsigned shift = h.cluster_bits + (h.cluster_bits - entry_bits);
  INSTAR_FUZZ_CHECK((static_cast<unsigned __int128>(h.l1_size) << shift) >= h.size);
}

// Every span lies in the area. Only a successful walk vouches for the values: the quiet walk may keep
// part of the extension it stopped at (qemu sets the crypto header before checking its offset), and
// its one consumer reads only the feature table.
void check_extensions(const qcow2::Header& h, ByteSpan area, const qcow2::Extensions& ext,
                      bool walk_succeeded) {
  if (ext.has_backing_format) {
    INSTAR_FUZZ_CHECK(span_within(ext.backing_format, area));
    INSTAR_FUZZ_CHECK(ext.backing_format.size <= qcow2::kMaxBackingFormatLength);
  }
  if (ext.has_feature_table) INSTAR_FUZZ_CHECK(span_within(ext.feature_table, area));
  if (ext.has_data_file) INSTAR_FUZZ_CHECK(span_within(ext.data_file, area));
  if (!walk_succeeded) return;
  if (ext.has_crypto_header) {
    INSTAR_FUZZ_CHECK(h.crypt_method == qcow2::kCryptLuks);
    INSTAR_FUZZ_CHECK(ext.crypto_header.offset % h.cluster_size() == 0);
  }
  bool autoclear_bitmaps = (h.autoclear_features & qcow2::kAutoclearBitmaps) != 0;
  if (ext.bitmaps_ignored) INSTAR_FUZZ_CHECK(!autoclear_bitmaps);
  if (ext.has_bitmaps) {
    INSTAR_FUZZ_CHECK(autoclear_bitmaps);
    INSTAR_FUZZ_CHECK(ext.bitmaps.nb_bitmaps >= 1 && ext.bitmaps.nb_bitmaps <= qcow2::kMaxBitmaps);
    INSTAR_FUZZ_CHECK(ext.bitmaps.directory_offset % h.cluster_size() == 0);
    INSTAR_FUZZ_CHECK(ext.bitmaps.directory_size <= qcow2::kMaxBitmapDirectoryBytes);
  }
}

bool same_span(ByteSpan a, ByteSpan b) { return a.data == b.data && a.size == b.size; }

bool same_extensions(const qcow2::Extensions& a, const qcow2::Extensions& b) {
  return a.has_backing_format == b.has_backing_format && same_span(a.backing_format, b.backing_format) &&
         a.has_feature_table == b.has_feature_table && same_span(a.feature_table, b.feature_table) &&
         a.has_crypto_header == b.has_crypto_header && a.crypto_header.offset == b.crypto_header.offset &&
         a.crypto_header.length == b.crypto_header.length && a.has_bitmaps == b.has_bitmaps &&
         a.bitmaps_ignored == b.bitmaps_ignored && a.bitmaps.nb_bitmaps == b.bitmaps.nb_bitmaps &&
         a.bitmaps.directory_size == b.bitmaps.directory_size &&
         a.bitmaps.directory_offset == b.bitmaps.directory_offset && a.has_data_file == b.has_data_file &&
         same_span(a.data_file, b.data_file);
}

// The text is NUL-terminated inside a buffer of exactly `capacity` bytes (ASan sees any write past it),
// and a smaller buffer holds a prefix of what a larger one holds.
void check_feature_text(const qcow2::Extensions& ext, uint64_t mask) {
  static constexpr char kPrefix[] = "Unsupported qcow2 feature(s): ";
  constexpr size_t kFull = 4096;  // more than 30 + 64 names of 46 bytes + separators
  std::unique_ptr<char[]> full(new char[kFull]);
  qcow2::describe_unsupported_features(ext, mask, full.get(), kFull);
  INSTAR_FUZZ_CHECK(instar::fuzz::nul_terminated_within(full.get(), kFull));
  size_t full_length = std::strlen(full.get());
  INSTAR_FUZZ_CHECK(std::strncmp(full.get(), kPrefix, sizeof kPrefix - 1) == 0);
  if (mask == 0) INSTAR_FUZZ_CHECK(full_length == sizeof kPrefix - 1);
  if (mask != 0) INSTAR_FUZZ_CHECK(full_length > sizeof kPrefix - 1);

  for (size_t capacity : {size_t{1}, size_t{7}, sizeof kPrefix, size_t{100}}) {
    std::unique_ptr<char[]> out(new char[capacity]);
    qcow2::describe_unsupported_features(ext, mask, out.get(), capacity);
    INSTAR_FUZZ_CHECK(instar::fuzz::nul_terminated_within(out.get(), capacity));
    size_t length = std::strlen(out.get());
    INSTAR_FUZZ_CHECK(length == (full_length < capacity - 1 ? full_length : capacity - 1));
    INSTAR_FUZZ_CHECK(std::memcmp(out.get(), full.get(), length) == 0);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > instar::fuzz::kMaxInputBytes) return 0;
  ByteSpan input(data, size);

  // qemu reads the fixed header zero-padded past the end of the file; a span that is too short is refused.
  uint8_t header_bytes[qcow2::kHeaderStructSize] = {};
  std::memcpy(header_bytes, data, size < sizeof header_bytes ? size : sizeof header_bytes);
  auto parsed = qcow2::parse_header(ByteSpan(header_bytes, sizeof header_bytes));
  auto direct = qcow2::parse_header(input);
  if (size < qcow2::kHeaderStructSize) {
    INSTAR_FUZZ_CHECK(direct.is_error() && direct.error().code == instar::Errc::truncated);
  } else {
    INSTAR_FUZZ_CHECK(direct.is_ok() == parsed.is_ok());
    if (parsed.is_error()) INSTAR_FUZZ_CHECK(instar::fuzz::same_error(direct.error(), parsed.error()));
  }
  if (parsed.is_error()) {
    INSTAR_FUZZ_CHECK(parsed.error().message != nullptr && parsed.error().message[0] != '\0');
    return 0;
  }
  const qcow2::Header h = parsed.value();
  check_header(h);

  // The extension area [header_length, extensions_end()), zero-padded past the end as info reads it.
  uint64_t end = h.extensions_end();
  size_t area_length = end > h.header_length ? static_cast<size_t>(end - h.header_length) : 0;
  INSTAR_FUZZ_CHECK(area_length <= kMaxArea);
  static uint8_t area_bytes[kMaxArea];
  ByteSpan present = input.subspan(h.header_length, area_length);
  std::memcpy(area_bytes, present.data, present.size);
  std::memset(area_bytes + present.size, 0, area_length - present.size);
  ByteSpan area(area_bytes, area_length);

  qcow2::Extensions scanned = qcow2::scan_extensions(h, area);
  auto extensions = qcow2::parse_extensions(h, area);
  check_extensions(h, area, scanned, extensions.is_ok());
  if (extensions.is_ok()) {
    check_extensions(h, area, extensions.value(), true);
    // Where the strict walk succeeds, the quiet one saw exactly the same.
    INSTAR_FUZZ_CHECK(same_extensions(extensions.value(), scanned));
  }
  // The walk over the bytes that exist, without padding, stays inside them.
  check_extensions(h, present, qcow2::scan_extensions(h, present),
                   qcow2::parse_extensions(h, present).is_ok());

  uint64_t unknown = h.incompatible_features & ~qcow2::kIncompatKnownMask;
  check_feature_text(scanned, unknown);
  // Any mask, with names from the feature table where it has them.
  check_feature_text(scanned, h.incompatible_features ^ h.compatible_features);

  auto tables = qcow2::validate_tables(h);
  if (tables.is_ok()) check_tables(h);
  return 0;
}
