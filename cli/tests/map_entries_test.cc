#include "cli/map/map_entries.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "cli/record_decoder.h"
#include "core/io/memory_block_device.h"
#include "core/ops/execute.h"
#include "core/ops/map_record.h"
#include "core/record/record.h"

namespace instar::cli {
namespace {

struct Packed {
  uint64_t start, length, offset;
  uint8_t depth, flags, file;
};

void put_le64(std::vector<uint8_t>& out, uint64_t v) {
  for (int i = 0; i < 8; i++) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

std::vector<uint8_t> pack(const std::vector<Packed>& entries) {
  std::vector<uint8_t> out;
  for (const Packed& e : entries) {
    put_le64(out, e.start);
    put_le64(out, e.length);
    put_le64(out, e.offset);
    out.push_back(e.depth);
    out.push_back(e.flags);
    out.push_back(e.file);
  }
  return out;
}

RecordField batch(const std::vector<uint8_t>& bytes) {
  RecordField f;
  f.tag = kMapEntries;
  f.bytes.assign(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  return f;
}

TEST(MapEntries, UnpacksBatchesInOrder) {
  RecordField root;
  root.is_group = true;
  root.children.push_back(batch(pack({{0, 65536, 327680, 0, kMapData | kMapPresent | kMapOffsetValid, 0},
                                      {65536, 65536, 0, 1, 0, 0}})));
  root.children.push_back(batch(pack({{131072, 512, 0, 0, kMapZero | kMapPresent, 0}})));
  auto r = decode_map_entries(root);
  ASSERT_TRUE(r.is_ok());
  const auto& e = r.value();
  ASSERT_EQ(e.size(), 3u);
  EXPECT_EQ(e[0].start, 0u);
  EXPECT_EQ(e[0].length, 65536u);
  EXPECT_TRUE(e[0].has_offset);
  EXPECT_EQ(e[0].offset, 327680u);
  EXPECT_EQ(e[0].flags, kMapData | kMapPresent);
  EXPECT_EQ(e[1].start, 65536u);
  EXPECT_EQ(e[1].depth, 1u);
  EXPECT_FALSE(e[1].has_offset);
  EXPECT_EQ(e[2].start, 131072u);
  EXPECT_EQ(e[2].flags, kMapZero | kMapPresent);
}

TEST(MapEntries, RejectsBatchesThatAreNotWholeEntries) {
  std::vector<uint8_t> one = pack({{0, 512, 0, 0, 0, 0}});
  for (size_t size : {size_t{0}, kMapEntryBytes - 1, kMapEntryBytes + 1}) {
    std::vector<uint8_t> bytes(size);
    if (size > 0) std::memcpy(bytes.data(), one.data(), size < one.size() ? size : one.size());
    RecordField root;
    root.children.push_back(batch(bytes));
    EXPECT_TRUE(decode_map_entries(root).is_error()) << size;
  }
  std::vector<Packed> too_many(kMapEntriesPerField + 1, Packed{0, 512, 0, 0, 0, 0});
  RecordField root;
  root.children.push_back(batch(pack(too_many)));
  EXPECT_TRUE(decode_map_entries(root).is_error());
}

TEST(MapEntries, RejectsUnknownFlagsAndOffsetsThatAreNotValid) {
  for (Packed e : {Packed{0, 512, 0, 0, 32, 0}, Packed{0, 512, 4096, 0, kMapData, 0},
                   Packed{0, 512, 0, 0, kMapData, 1}}) {
    RecordField root;
    root.children.push_back(batch(pack({e})));
    EXPECT_TRUE(decode_map_entries(root).is_error());
  }
}

TEST(MapEntries, RejectsABatchThatIsNotBytes) {
  RecordField root;
  RecordField number;
  number.tag = kMapEntries;
  number.is_u64 = true;
  root.children.push_back(number);
  EXPECT_TRUE(decode_map_entries(root).is_error());
}

// A qcow2 v2 image, 4 KiB clusters, 512 of them virtual: L1 at cluster 1, refcount table at 2, one L2 table
// at 3, then every other guest cluster of the first `data` pairs written, one after another in the file.
std::vector<uint8_t> alternating_qcow2(uint64_t data) {
  const uint64_t cluster = 4096;
  std::vector<uint8_t> image((4 + data) * cluster);
  auto put = [&](uint64_t at, uint64_t v, int width) {
    for (int i = 0; i < width; i++) image[at + i] = static_cast<uint8_t>(v >> (8 * (width - 1 - i)));
  };
  put(0, 0x514649fb, 4);
  put(4, 2, 4);
  put(20, 12, 4);
  put(24, 512 * cluster, 8);
  put(36, 1, 4);
  put(40, cluster, 8);
  put(48, 2 * cluster, 8);
  put(56, 1, 4);
  put(cluster, (uint64_t{1} << 63) | 3 * cluster, 8);
  for (uint64_t i = 0; i < data; i++) {
    put(3 * cluster + 2 * i * 8, (uint64_t{1} << 63) | (4 + i) * cluster, 8);
    image[(4 + i) * cluster] = 1;
  }
  return image;
}

TEST(MapEntries, CoreSplitsManyExtentsIntoFullBatches) {
  // 150 data clusters between holes: 300 extents, then the unallocated rest as one.
  std::vector<uint8_t> image = alternating_qcow2(150);
  MemoryBlockDevice device(image.data(), image.size());
  Request request;
  request.operation = Operation::map;
  request.qemu_major = 7;
  request.qemu_minor = 2;
  Devices devices;
  devices.image = &device;
  std::vector<uint8_t> scratch(8u << 20), record(1u << 20);
  Arena arena(scratch.data(), scratch.size());
  RecordWriter writer(record.data(), record.size());
  ASSERT_TRUE(execute(request, devices, arena, writer).is_ok());
  auto decoded = decode_record(ByteSpan(writer.data(), writer.size()));
  ASSERT_TRUE(decoded.is_ok());
  auto batches = decoded.value().root.find_all(kMapEntries);
  ASSERT_EQ(batches.size(), 3u);
  EXPECT_EQ(batches[0]->bytes.size(), kMapEntriesPerField * kMapEntryBytes);
  EXPECT_EQ(batches[1]->bytes.size(), kMapEntriesPerField * kMapEntryBytes);
  auto entries = decode_map_entries(decoded.value().root);
  ASSERT_TRUE(entries.is_ok());
  ASSERT_EQ(entries.value().size(), 300u);
  uint64_t start = 0;
  for (size_t i = 0; i < entries.value().size(); i++) {
    const MapEntry& e = entries.value()[i];
    EXPECT_EQ(e.start, start);
    EXPECT_EQ(e.length, i + 1 < 300 ? 4096u : 4096u * (512 - 299));
    EXPECT_EQ(e.has_offset, i % 2 == 0);
    if (e.has_offset) {
      EXPECT_EQ(e.offset, (4 + i / 2) * 4096);
    }
    start += e.length;
  }
}

}  // namespace
}  // namespace instar::cli
