// The progress runs in a result record: decoding (hostile input) and qemu's line format.
#include "cli/progress/progress_lines.h"

#include <gtest/gtest.h>

#include <cstring>
#include <functional>

#include "core/ops/progress_record.h"
#include "core/record/record.h"

namespace instar::cli {
namespace {

uint32_t bits(float v) {
  uint32_t b;
  std::memcpy(&b, &v, sizeof b);
  return b;
}

// A record whose body `write` fills, decoded; the test fails if it does not decode.
RecordField decoded(const std::function<void(RecordWriter&)>& write) {
  std::vector<uint8_t> buf(8192);
  RecordWriter w(buf.data(), buf.size());
  w.start(6);
  write(w);
  w.finish();
  EXPECT_FALSE(w.failed());
  auto r = decode_record(ByteSpan(buf.data(), w.size()));
  EXPECT_TRUE(r.is_ok());
  return r.is_ok() ? r.value().root : RecordField{};
}

void runs(RecordWriter& w, std::initializer_list<std::pair<uint64_t, uint64_t>> list) {
  w.begin(kTagProgress);
  for (auto [value, repeat] : list) {
    w.put_u64(kTagProgressValue, value);
    w.put_u64(kTagProgressRepeat, repeat);
  }
  w.end(kTagProgress);
}

TEST(ProgressLines, NoGroupMeansNoLines) {
  auto lines = decode_progress(decoded([](RecordWriter& w) { w.put_u64(900, 1); }));
  ASSERT_TRUE(lines.is_ok());
  EXPECT_TRUE(lines.value().runs.empty());
  EXPECT_EQ(lines.value().total, 0u);
}

TEST(ProgressLines, DecodesRunsInOrder) {
  auto lines = decode_progress(decoded([](RecordWriter& w) {
    runs(w, {{bits(0.0f), 1}, {bits(50.0f), 1}, {bits(100.0f), 3}});
  }));
  ASSERT_TRUE(lines.is_ok());
  ASSERT_EQ(lines.value().runs.size(), 3u);
  EXPECT_EQ(lines.value().runs[2].value, bits(100.0f));
  EXPECT_EQ(lines.value().runs[2].repeat, 3u);
  EXPECT_EQ(lines.value().total, 5u);
}

TEST(ProgressLines, FormatsLikeQemu) {
  EXPECT_EQ(progress_start_line(), "    (0.00/100%)\r");
  EXPECT_EQ(progress_line(bits(8.58f)), "    (8.58/100%)\r");
  EXPECT_EQ(progress_line(bits(100.0f)), "    (100.00/100%)\r");
  // %3.2f rounds the float's exact value: 0.125f is a tie and rounds to even, 0.12.
  EXPECT_EQ(progress_line(bits(0.125f)), "    (0.12/100%)\r");
}

TEST(ProgressLines, RejectsValuesOutsideZeroToHundred) {
  for (uint64_t bad : {uint64_t{bits(100.5f)}, uint64_t{bits(-1.0f)}, uint64_t{0x7fc00000}, uint64_t{0x7f800000},
                       uint64_t{1} << 32}) {
    auto lines = decode_progress(decoded([&](RecordWriter& w) { runs(w, {{bad, 1}}); }));
    EXPECT_TRUE(lines.is_error()) << std::hex << bad;
  }
}

TEST(ProgressLines, RejectsEmptyRunsAndGoingBack) {
  EXPECT_TRUE(decode_progress(decoded([](RecordWriter& w) { runs(w, {{bits(5.0f), 0}}); })).is_error());
  EXPECT_TRUE(decode_progress(decoded([](RecordWriter& w) {
                runs(w, {{bits(5.0f), 1}, {bits(4.0f), 1}});
              })).is_error());
  // Two runs of one value are one run: a record that splits them is not one core writes.
  EXPECT_TRUE(decode_progress(decoded([](RecordWriter& w) {
                runs(w, {{bits(5.0f), 1}, {bits(5.0f), 1}});
              })).is_error());
}

TEST(ProgressLines, RejectsMalformedGroups) {
  // A value without its repeat.
  EXPECT_TRUE(decode_progress(decoded([](RecordWriter& w) {
                w.begin(kTagProgress);
                w.put_u64(kTagProgressValue, bits(1.0f));
                w.end(kTagProgress);
              })).is_error());
  // Fields in the wrong order, or of the wrong kind.
  EXPECT_TRUE(decode_progress(decoded([](RecordWriter& w) {
                w.begin(kTagProgress);
                w.put_u64(kTagProgressRepeat, 1);
                w.put_u64(kTagProgressValue, bits(1.0f));
                w.end(kTagProgress);
              })).is_error());
  EXPECT_TRUE(decode_progress(decoded([](RecordWriter& w) {
                w.begin(kTagProgress);
                w.put_string(kTagProgressValue, "1.0");
                w.put_u64(kTagProgressRepeat, 1);
                w.end(kTagProgress);
              })).is_error());
  // Not a group, and two groups.
  EXPECT_TRUE(decode_progress(decoded([](RecordWriter& w) { w.put_u64(kTagProgress, 1); })).is_error());
  EXPECT_TRUE(decode_progress(decoded([](RecordWriter& w) {
                runs(w, {{bits(1.0f), 1}});
                runs(w, {{bits(2.0f), 1}});
              })).is_error());
}

TEST(ProgressLines, RejectsTooManyRunsAndOverflowingCounts) {
  auto too_many = decoded([](RecordWriter& w) {
    w.begin(kTagProgress);
    for (uint64_t i = 0; i <= kMaxProgressRuns; i++) {
      w.put_u64(kTagProgressValue, bits(0.5f * static_cast<float>(i)));
      w.put_u64(kTagProgressRepeat, 1);
    }
    w.end(kTagProgress);
  });
  EXPECT_TRUE(decode_progress(too_many).is_error());
  auto overflow = decoded([](RecordWriter& w) { runs(w, {{bits(1.0f), ~0ull}, {bits(2.0f), 1}}); });
  EXPECT_TRUE(decode_progress(overflow).is_error());
}

TEST(ProgressLines, PrintsARangeOfLinesAcrossRuns) {
  auto lines = decode_progress(decoded([](RecordWriter& w) {
    runs(w, {{bits(0.0f), 1}, {bits(100.0f), 2}});
  }));
  ASSERT_TRUE(lines.is_ok());
  char* text = nullptr;
  size_t size = 0;
  std::FILE* out = open_memstream(&text, &size);
  print_progress(lines.value(), 1, 3, out);
  std::fclose(out);
  EXPECT_EQ(std::string(text, size), "    (100.00/100%)\r    (100.00/100%)\r");
  std::free(text);
}

}  // namespace
}  // namespace instar::cli
