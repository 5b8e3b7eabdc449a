#include "core/qcow2/bitmap_directory.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

// Expectations were checked against `qemu-img info` (7.2 and 10.0) on images carrying the same
// directories.

namespace instar {
namespace {

using Bytes = std::vector<uint8_t>;
constexpr uint64_t kCluster = 65536;
constexpr uint64_t kDisk = 10 << 20;
constexpr uint64_t kDirOffset = 0xa0000;

// The directory of a 10 MiB image after `qemu-img bitmap --add img b0`,
// `--add -g 128k img second` and `--add --disable img third`.
// clang-format off
constexpr uint8_t kQemuDirectory[] = {
    0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02,
    0x01, 0x10, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x62, 0x30, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02,
    0x01, 0x11, 0x00, 0x06, 0x00, 0x00, 0x00, 0x00, 0x73, 0x65, 0x63, 0x6f, 0x6e, 0x64, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x09, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
    0x01, 0x10, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00, 0x74, 0x68, 0x69, 0x72, 0x64, 0x00, 0x00, 0x00,
};
// clang-format on

void put_be(Bytes& b, uint64_t v, int width) {
  for (int i = width - 1; i >= 0; i--) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

struct Entry {
  uint64_t table_offset = 0x40000;
  uint32_t table_size = 1;
  uint32_t flags = kQcow2BitmapAuto;
  uint8_t type = 1;
  uint8_t granularity_bits = 16;
  std::string name = "b0";
  uint32_t extra_size = 0;
  int name_size = -1;  // the on-disk field, when it should differ from the name
};

void append(Bytes& d, const Entry& e) {
  put_be(d, e.table_offset, 8);
  put_be(d, e.table_size, 4);
  put_be(d, e.flags, 4);
  put_be(d, e.type, 1);
  put_be(d, e.granularity_bits, 1);
  put_be(d, e.name_size >= 0 ? static_cast<uint64_t>(e.name_size) : e.name.size(), 2);
  put_be(d, e.extra_size, 4);
  d.insert(d.end(), e.name.begin(), e.name.end());
  while (d.size() % 8 != 0) d.push_back(0);
}

Bytes dir_of(const std::vector<Entry>& entries) {
  Bytes d;
  for (const Entry& e : entries) append(d, e);
  return d;
}

std::string str(ByteSpan s) { return std::string(reinterpret_cast<const char*>(s.data), s.size); }

Qcow2BitmapReader reader_of(const Bytes& d, uint32_t nb, uint64_t disk = kDisk, uint64_t cluster = kCluster) {
  return Qcow2BitmapReader(ByteSpan(d.data(), d.size()), qcow2::BitmapsExtension{nb, d.size(), kDirOffset},
                           cluster, disk);
}

std::string qemu_text(const Qcow2BitmapReader& r) {
  char buf[1200];
  r.format_error(buf, sizeof(buf));
  return buf;
}

// Runs `r` to its first error and returns qemu's text for it ("" when there is none).
std::string first_error(Qcow2BitmapReader r) {
  Qcow2Bitmap b{};
  for (;;) {
    auto got = r.next(b);
    if (got.is_error()) return qemu_text(r);
    if (!got.value()) return "";
  }
}

TEST(Qcow2BitmapDirectory, ReadsTheDirectoryQemuImgWrote) {
  Bytes d(kQemuDirectory, kQemuDirectory + sizeof(kQemuDirectory));
  Qcow2BitmapReader r = reader_of(d, 3);
  Qcow2Bitmap b{};
  struct Want {
    const char* name;
    uint32_t granularity_bits;
    uint32_t flags;
    uint64_t table_offset;
  };
  const Want want[] = {{"b0", 16, kQcow2BitmapAuto, 0x40000},
                       {"second", 17, kQcow2BitmapAuto, 0x50000},
                       {"third", 16, 0, 0x90000}};
  for (const Want& w : want) {
    auto got = r.next(b);
    ASSERT_TRUE(got.is_ok());
    ASSERT_TRUE(got.value());
    EXPECT_EQ(str(b.name), w.name);
    EXPECT_EQ(b.granularity_bits, w.granularity_bits);
    EXPECT_EQ(b.flags, w.flags);
    EXPECT_EQ(b.table_offset, w.table_offset);
    EXPECT_EQ(b.table_size, 1u);
    EXPECT_EQ(b.type, 1);
  }
  auto end = r.next(b);
  ASSERT_TRUE(end.is_ok());
  EXPECT_FALSE(end.value());
  EXPECT_EQ(r.entries_read(), 3u);
}

TEST(Qcow2BitmapDirectory, NoBitmapsReadsNothing) {
  Qcow2BitmapReader r(ByteSpan(), qcow2::BitmapsExtension{0, 0, 0}, kCluster, kDisk);
  Qcow2Bitmap b{};
  auto got = r.next(b);
  ASSERT_TRUE(got.is_ok());
  EXPECT_FALSE(got.value());
}

TEST(Qcow2BitmapDirectory, ChecksTheDirectorySizeFirst) {
  Qcow2BitmapReader zero(ByteSpan(), qcow2::BitmapsExtension{1, 0, kDirOffset}, kCluster, kDisk);
  EXPECT_EQ(first_error(zero), "Requested bitmap directory size is zero");
  Qcow2BitmapReader big(ByteSpan(),
                        qcow2::BitmapsExtension{1, qcow2::kMaxBitmapDirectoryBytes + 1, kDirOffset}, kCluster,
                        kDisk);
  EXPECT_EQ(first_error(big), "Requested bitmap directory size is too big");
}

TEST(Qcow2BitmapDirectory, FailsReadsPastQemusMaximumOffset) {
  Bytes d = dir_of({Entry{}});
  Qcow2BitmapReader r(ByteSpan(d.data(), d.size()),
                      qcow2::BitmapsExtension{1, d.size(), 0x7fffffffc0000000ull}, kCluster, kDisk);
  Qcow2Bitmap b{};
  auto got = r.next(b);
  ASSERT_TRUE(got.is_error());
  EXPECT_EQ(got.error().code, Errc::io);
  EXPECT_STREQ(got.error().message, "Failed to read bitmap directory: Input/output error");
}

TEST(Qcow2BitmapDirectory, MissingBytesReadAsZeros) {
  // A directory past the end of the file reads as zeros: an entry with an empty name and no table.
  Bytes d = dir_of({Entry{}});
  Qcow2BitmapReader r(ByteSpan(), qcow2::BitmapsExtension{1, d.size(), kDirOffset}, kCluster, kDisk);
  EXPECT_EQ(first_error(r), "Bitmap '' doesn't satisfy the constraints");
}

TEST(Qcow2BitmapDirectory, RejectsAnEntryHeaderCutByTheDirectoryEnd) {
  Bytes d = dir_of({Entry{}});
  Qcow2BitmapReader r(ByteSpan(d.data(), 16), qcow2::BitmapsExtension{1, 16, kDirOffset}, kCluster, kDisk);
  EXPECT_EQ(first_error(r), "Broken bitmap directory");
}

TEST(Qcow2BitmapDirectory, RejectsANameRunningPastTheDirectory) {
  Entry e;
  e.name_size = 100;
  EXPECT_EQ(first_error(reader_of(dir_of({e}), 1)), "Broken bitmap directory");
}

TEST(Qcow2BitmapDirectory, CountsEntriesAgainstTheHeaderExtension) {
  Entry a, b, c;
  b.name = "b1";
  c.name = "b2";
  Bytes d = dir_of({a, b, c});
  EXPECT_EQ(first_error(reader_of(d, 2)), "More bitmaps found than specified in header extension");
  EXPECT_EQ(first_error(reader_of(d, 4)), "Less bitmaps found than specified in header extension");
  EXPECT_EQ(first_error(reader_of(d, 3)), "");
}

TEST(Qcow2BitmapDirectory, CountsBeforeCheckingTheEntrySize) {
  Entry a, b;
  b.name_size = 200;  // runs past the end, but there is one entry too many first
  EXPECT_EQ(first_error(reader_of(dir_of({a, b}), 1)),
            "More bitmaps found than specified in header extension");
}

TEST(Qcow2BitmapDirectory, RejectsExtraData) {
  Entry e;
  e.extra_size = 8;
  Bytes d = dir_of({e});
  d.resize(d.size() + 8, 0);
  EXPECT_EQ(first_error(reader_of(d, 1)), "Bitmap extra data is not supported");
}

TEST(Qcow2BitmapDirectory, SizesEntriesWithQemusWrappingIntSum) {
  // 24 + 2 + 0xfffffff0 wraps to a 16-byte entry that fits: qemu reports the extra data.
  Entry wraps;
  wraps.extra_size = 0xfffffff0;
  EXPECT_EQ(first_error(reader_of(dir_of({wraps}), 1)), "Bitmap extra data is not supported");
  // A negative size steps backwards, which also fits.
  Entry negative;
  negative.extra_size = 0x7fffffff;
  EXPECT_EQ(first_error(reader_of(dir_of({negative}), 1)), "Bitmap extra data is not supported");
  // An honest large size does not.
  Entry large;
  large.extra_size = 0x100;
  EXPECT_EQ(first_error(reader_of(dir_of({large}), 1)), "Broken bitmap directory");
}

TEST(Qcow2BitmapDirectory, RejectsEntriesOutsideTheConstraintsByName) {
  auto rejected = [](Entry e, uint64_t disk = kDisk, uint64_t cluster = kCluster) {
    Bytes d = dir_of({e});
    Qcow2BitmapReader r = reader_of(d, 1, disk, cluster);
    Qcow2Bitmap b{};
    auto got = r.next(b);
    if (got.is_ok()) return false;
    EXPECT_STREQ(got.error().message, "Bitmap doesn't satisfy the constraints");
    EXPECT_EQ(str(r.error_name()), e.name);
    EXPECT_EQ(qemu_text(r), "Bitmap '" + e.name + "' doesn't satisfy the constraints");
    return true;
  };
  Entry e;
  EXPECT_FALSE(rejected(e));
  e.table_size = 0;
  EXPECT_TRUE(rejected(e));
  e = Entry{};
  e.table_offset = 0;
  EXPECT_TRUE(rejected(e));
  e = Entry{};
  e.table_offset = 0x40200;
  EXPECT_TRUE(rejected(e));
  e = Entry{};
  e.table_size = 0x8000001;
  EXPECT_TRUE(rejected(e));
  e = Entry{};
  e.granularity_bits = 32;
  EXPECT_TRUE(rejected(e));
  e.granularity_bits = 8;
  EXPECT_TRUE(rejected(e));
  e.granularity_bits = 9;
  EXPECT_FALSE(rejected(e));
  e = Entry{};
  e.flags = 4;
  EXPECT_TRUE(rejected(e));
  e = Entry{};
  e.type = 2;
  EXPECT_TRUE(rejected(e));
  e = Entry{};
  e.name = std::string(1024, 'n');
  EXPECT_TRUE(rejected(e));
  e.name = std::string(1023, 'n');
  EXPECT_FALSE(rejected(e));
  // Over 512 MiB of bitmap clusters.
  e = Entry{};
  e.table_size = 0x2001;
  EXPECT_TRUE(rejected(e));
  e.table_size = 0x2000;
  EXPECT_FALSE(rejected(e));
}

TEST(Qcow2BitmapDirectory, OnlyAConsistentBitmapMustCoverTheDisk) {
  // One 512-byte cluster of granularity-512 bits covers 2 MiB, less than the 10 MiB disk.
  Entry e;
  e.granularity_bits = 9;
  e.table_offset = 0x1000;
  e.name = "bm";
  Bytes d = dir_of({e});
  EXPECT_EQ(first_error(reader_of(d, 1, kDisk, 512)), "Bitmap 'bm' doesn't satisfy the constraints");
  e.flags |= kQcow2BitmapInUse;
  d = dir_of({e});
  EXPECT_EQ(first_error(reader_of(d, 1, kDisk, 512)), "");
}

TEST(Qcow2BitmapDirectory, NameStopsAtTheFirstNul) {
  Entry e;
  e.name = std::string("ab\0cd", 5);
  e.table_size = 0;
  Bytes d = dir_of({e});
  Qcow2BitmapReader r = reader_of(d, 1);
  EXPECT_EQ(first_error(r), "Bitmap 'ab' doesn't satisfy the constraints");
}

TEST(Qcow2BitmapDirectory, ErrorsStick) {
  Entry e;
  e.type = 0;
  Bytes d = dir_of({e});
  Qcow2BitmapReader r = reader_of(d, 1);
  Qcow2Bitmap b{};
  EXPECT_TRUE(r.next(b).is_error());
  EXPECT_TRUE(r.next(b).is_error());
  EXPECT_TRUE(r.validate().is_error());
}

TEST(Qcow2BitmapDirectory, FormatErrorCutsToCapacity) {
  Entry e;
  e.type = 0;
  e.name = "long_name";
  Bytes d = dir_of({e});
  Qcow2BitmapReader r = reader_of(d, 1);
  Qcow2Bitmap b{};
  ASSERT_TRUE(r.next(b).is_error());
  char buf[12];
  EXPECT_EQ(r.format_error(buf, sizeof(buf)), 11u);
  EXPECT_STREQ(buf, "Bitmap 'lon");
}

TEST(Qcow2BitmapDirectory, ChecksBitmapTableEntriesAsQemu) {
  EXPECT_TRUE(qcow2_bitmap_table_entry_valid(0, kCluster));            // all zeros
  EXPECT_TRUE(qcow2_bitmap_table_entry_valid(1, kCluster));            // all ones
  EXPECT_TRUE(qcow2_bitmap_table_entry_valid(0x50000, kCluster));      // a data cluster
  EXPECT_FALSE(qcow2_bitmap_table_entry_valid(0x50001, kCluster));     // bit 0 with an offset
  EXPECT_FALSE(qcow2_bitmap_table_entry_valid(0x50200, kCluster));     // unaligned
  EXPECT_FALSE(qcow2_bitmap_table_entry_valid(2, kCluster));           // reserved bits 1..8
  EXPECT_FALSE(qcow2_bitmap_table_entry_valid(1ull << 56, kCluster));  // reserved bits 56..63
}

}  // namespace
}  // namespace instar
