#include "core/qcow2/header.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

namespace instar::qcow2 {
namespace {

void store_be(std::vector<uint8_t>& b, size_t off, uint64_t v, size_t width) {
  for (size_t i = 0; i < width; i++) b[off + i] = static_cast<uint8_t>(v >> (8 * (width - 1 - i)));
}

// The first bytes of `qemu-img create -f qcow2 x 64M` (7.2): v3, 64 KiB clusters.
std::vector<uint8_t> v3_header() {
  std::vector<uint8_t> b(kHeaderStructSize, 0);
  store_be(b, 0, kMagic, 4);
  store_be(b, 4, 3, 4);
  store_be(b, 20, 16, 4);           // cluster_bits
  store_be(b, 24, 64ull << 20, 8);  // size
  store_be(b, 36, 1, 4);            // l1_size
  store_be(b, 40, 0x30000, 8);      // l1_table_offset
  store_be(b, 48, 0x10000, 8);      // refcount_table_offset
  store_be(b, 56, 1, 4);            // refcount_table_clusters
  store_be(b, 96, 4, 4);            // refcount_order
  store_be(b, 100, 112, 4);         // header_length
  return b;
}

ByteSpan span(const std::vector<uint8_t>& b) { return ByteSpan(b.data(), b.size()); }

std::string message(const Error& e) {
  std::string m = e.message;
  if (e.has_detail) {
    size_t at = m.find("{}");
    if (at != std::string::npos) m.replace(at, 2, std::to_string(e.detail));
  }
  return m;
}

TEST(Qcow2Header, ParsesVersion3Fields) {
  auto h = parse_header(span(v3_header()));
  ASSERT_TRUE(h.is_ok());
  EXPECT_EQ(h.value().version, 3u);
  EXPECT_EQ(h.value().cluster_size(), 65536u);
  EXPECT_EQ(h.value().size, 64ull << 20);
  EXPECT_EQ(h.value().header_length, 112u);
  EXPECT_EQ(h.value().compression_type, kCompressionZlib);
  EXPECT_TRUE(validate_tables(h.value()).is_ok());
}

TEST(Qcow2Header, Version2UsesFixedDefaults) {
  auto b = v3_header();
  store_be(b, 4, 2, 4);
  store_be(b, 96, 0xffffffff, 4);  // ignored in v2
  auto h = parse_header(span(b));
  ASSERT_TRUE(h.is_ok());
  EXPECT_EQ(h.value().refcount_order, 4u);
  EXPECT_EQ(h.value().header_length, 72u);
  EXPECT_EQ(h.value().incompatible_features, 0u);
}

struct Rejection {
  size_t offset;
  uint64_t value;
  size_t width;
  const char* expected;  // qemu-img 7.2 / 10.0: "Could not open 'x': <expected>"
};

class Qcow2HeaderRejects : public ::testing::TestWithParam<Rejection> {};

TEST_P(Qcow2HeaderRejects, WithQemuMessage) {
  auto b = v3_header();
  store_be(b, GetParam().offset, GetParam().value, GetParam().width);
  auto h = parse_header(span(b));
  Result<void> tables = h.is_ok() ? validate_tables(h.value()) : Result<void>(h.error());
  ASSERT_TRUE(tables.is_error());
  EXPECT_EQ(message(tables.error()), GetParam().expected);
}

INSTANTIATE_TEST_SUITE_P(
    Messages, Qcow2HeaderRejects,
    ::testing::Values(Rejection{0, 0x58585858, 4, "Image is not in qcow2 format"},
                      Rejection{4, 4, 4, "Unsupported qcow2 version 4"},
                      Rejection{4, 1, 4, "Unsupported qcow2 version 1"},
                      Rejection{20, 8, 4, "Unsupported cluster size: 2^8"},
                      Rejection{20, 22, 4, "Unsupported cluster size: 2^22"},
                      Rejection{100, 80, 4, "qcow2 header too short"},
                      Rejection{100, 0x20000, 4, "qcow2 header exceeds cluster size"},
                      Rejection{8, 0x20000, 8, "Invalid backing file offset"},
                      Rejection{96, 7, 4, "Reference count entry width too large; may not exceed 64 bits"},
                      Rejection{56, 0, 4, "Image does not contain a reference count table"},
                      Rejection{48, 0x10200, 8, "Reference count table offset invalid"},
                      Rejection{56, 129, 4, "Reference count table too large"},
                      Rejection{40, 0x30200, 8, "Active L1 table offset invalid"},
                      Rejection{36, 0, 4, "L1 table is too small"},
                      Rejection{36, 0x400001, 4, "Active L1 table too large"},
                      Rejection{60, 65537, 4, "Snapshot table too large"},
                      Rejection{32, 3, 4, "Unsupported encryption method 3"}));

TEST(Qcow2Header, CompressionTypeNeedsItsFeatureBit) {
  auto b = v3_header();
  b[104] = kCompressionZstd;
  EXPECT_EQ(message(parse_header(span(b)).error()),
            "qcow2: Compression type incompatible feature bit must be set");
  store_be(b, 72, kIncompatCompression, 8);
  EXPECT_TRUE(parse_header(span(b)).is_ok());
  b[104] = 2;
  EXPECT_EQ(message(parse_header(span(b)).error()), "qcow2: unknown compression type: 2");
}

TEST(Qcow2Header, ShortHeaderLengthHidesCompressionType) {
  auto b = v3_header();
  store_be(b, 100, 104, 4);
  b[104] = 7;  // not part of a 104-byte header
  auto h = parse_header(span(b));
  ASSERT_TRUE(h.is_ok());
  EXPECT_EQ(h.value().compression_type, kCompressionZlib);
}

TEST(Qcow2Header, ExtendedL2NeedsSubclustersOf512Bytes) {
  auto b = v3_header();
  store_be(b, 20, 12, 4);  // 4 KiB clusters: 128-byte subclusters
  store_be(b, 72, kIncompatExtendedL2, 8);
  store_be(b, 40, 0x3000, 8);
  store_be(b, 48, 0x1000, 8);
  auto h = parse_header(span(b));
  ASSERT_TRUE(h.is_ok());
  EXPECT_EQ(message(validate_tables(h.value()).error()), "Unsupported subcluster size: 128");
}

std::vector<uint8_t> extension(uint32_t magic, std::vector<uint8_t> data) {
  std::vector<uint8_t> out(8, 0);
  store_be(out, 0, magic, 4);
  store_be(out, 4, data.size(), 4);
  out.insert(out.end(), data.begin(), data.end());
  while (out.size() % 8 != 0) out.push_back(0);
  return out;
}

TEST(Qcow2Extensions, ReadsKnownAndSkipsUnknown) {
  Header h = parse_header(span(v3_header())).value();
  std::vector<uint8_t> area;
  for (auto& e : {extension(0x12345678, {1, 2, 3}), extension(kExtBackingFormat, {'r', 'a', 'w'}),
                  extension(kExtDataFile, {'d', '.', 'r', 'a', 'w'}), extension(kExtEnd, {})})
    area.insert(area.end(), e.begin(), e.end());
  auto ext = parse_extensions(h, span(area));
  ASSERT_TRUE(ext.is_ok());
  EXPECT_TRUE(ext.value().has_backing_format);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(ext.value().backing_format.data), 3), "raw");
  EXPECT_TRUE(ext.value().has_data_file);
  EXPECT_EQ(ext.value().data_file.size, 5u);
}

TEST(Qcow2Extensions, RejectsOversizedExtension) {
  Header h = parse_header(span(v3_header())).value();
  auto area = extension(0x12345678, {1, 2, 3, 4});
  store_be(area, 4, 1000, 4);
  EXPECT_EQ(message(parse_extensions(h, span(area)).error()), "Header extension too large");
}

TEST(Qcow2Extensions, RejectsLongBackingFormat) {
  Header h = parse_header(span(v3_header())).value();
  auto area = extension(kExtBackingFormat, std::vector<uint8_t>(16, 'a'));
  EXPECT_EQ(message(parse_extensions(h, span(area)).error()),
            "ERROR: ext_backing_format: len=16 too large (>=16)");
}

TEST(Qcow2Extensions, BitmapsWithoutAutoclearBitAreIgnored) {
  Header h = parse_header(span(v3_header())).value();
  auto area = extension(kExtBitmaps, std::vector<uint8_t>(24, 0));
  auto ext = parse_extensions(h, span(area));
  ASSERT_TRUE(ext.is_ok());
  EXPECT_TRUE(ext.value().bitmaps_ignored);
  EXPECT_FALSE(ext.value().has_bitmaps);
  h.autoclear_features = kAutoclearBitmaps;
  EXPECT_EQ(message(parse_extensions(h, span(area)).error()), "found bitmaps extension with zero bitmaps");
}

TEST(Qcow2Features, NamesUnknownBitsFromFeatureTable) {
  Header h = parse_header(span(v3_header())).value();
  std::vector<uint8_t> entry(48, 0);
  entry[0] = 0;  // incompatible
  entry[1] = 5;
  std::memcpy(&entry[2], "shiny feature", 13);
  auto area = extension(kExtFeatureTable, entry);
  char text[256];
  describe_unsupported_features(scan_extensions(h, span(area)), (1ull << 5) | (1ull << 63), text,
                                sizeof text);
  EXPECT_STREQ(text,
               "Unsupported qcow2 feature(s): shiny feature, Unknown incompatible feature: 8000000000000000");
}

}  // namespace
}  // namespace instar::qcow2
