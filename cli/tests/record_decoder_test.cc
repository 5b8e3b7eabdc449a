#include "cli/record_decoder.h"

#include <gtest/gtest.h>

#include "core/record/record.h"

namespace instar::cli {
namespace {

std::vector<uint8_t> sample_record() {
  std::vector<uint8_t> buf(256);
  RecordWriter w(buf.data(), buf.size());
  w.start(1);
  w.put_u64(10, 42);
  w.begin(20);
  w.put_string(21, "name");
  w.end(20);
  buf.resize(w.size());
  return buf;
}

TEST(RecordDecoder, DecodesWhatTheWriterWrote) {
  auto buf = sample_record();
  auto r = decode_record(ByteSpan(buf.data(), buf.size()));
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(r.value().operation, 1);
  EXPECT_EQ(r.value().root.u64_of(10), 42u);
  const RecordField* group = r.value().root.find(20);
  ASSERT_NE(group, nullptr);
  EXPECT_EQ(group->string_of(21), "name");
}

TEST(RecordDecoder, RejectsEveryTruncationButWholeFieldsOutsideGroups) {
  auto buf = sample_record();
  // Cutting after the header or after the first field leaves a shorter valid record;
  // every other cut splits a field or leaves the group open.
  const size_t after_header = kRecordHeaderSize, after_u64 = kRecordHeaderSize + kRecordFieldHeaderSize + 8;
  for (size_t n = 0; n < buf.size(); n++) {
    bool valid = n == after_header || n == after_u64;
    EXPECT_EQ(decode_record(ByteSpan(buf.data(), n)).is_ok(), valid) << "length " << n;
  }
}

TEST(RecordDecoder, RejectsBadMagicAndVersion) {
  auto buf = sample_record();
  buf[0] ^= 1;
  EXPECT_TRUE(decode_record(ByteSpan(buf.data(), buf.size())).is_error());
  buf = sample_record();
  buf[4] = 99;
  EXPECT_TRUE(decode_record(ByteSpan(buf.data(), buf.size())).is_error());
}

TEST(RecordDecoder, RejectsUnbalancedGroupsAndBadKinds) {
  std::vector<uint8_t> buf(64);
  RecordWriter w(buf.data(), buf.size());
  w.start(1);
  w.begin(20);
  buf.resize(w.size());
  EXPECT_TRUE(decode_record(ByteSpan(buf.data(), buf.size())).is_error());
  auto good = sample_record();
  good[kRecordHeaderSize + 2] = 9;  // kind of the first field
  EXPECT_TRUE(decode_record(ByteSpan(good.data(), good.size())).is_error());
}

TEST(RecordDecoder, RejectsIntegerWithWrongLength) {
  auto buf = sample_record();
  buf[kRecordHeaderSize + 3] = 4;  // u64 field claiming 4 bytes
  EXPECT_TRUE(decode_record(ByteSpan(buf.data(), buf.size())).is_error());
}

TEST(RecordDecoder, RejectsTooDeepNesting) {
  std::vector<uint8_t> buf(512);
  RecordWriter w(buf.data(), buf.size());
  w.start(1);
  for (int i = 0; i < kRecordMaxDepth; i++) w.begin(30);
  for (int i = 0; i < kRecordMaxDepth; i++) w.end(30);
  ASSERT_FALSE(w.failed());
  buf.resize(w.size());
  EXPECT_TRUE(decode_record(ByteSpan(buf.data(), buf.size())).is_ok());
  // One more level, written by hand past the writer's own limit.
  std::vector<uint8_t> deep(buf.begin(), buf.begin() + kRecordHeaderSize);
  for (int i = 0; i <= kRecordMaxDepth; i++) deep.insert(deep.end(), {30, 0, 2, 0, 0, 0, 0});
  EXPECT_TRUE(decode_record(ByteSpan(deep.data(), deep.size())).is_error());
}

}  // namespace
}  // namespace instar::cli
