// record_decoder_fuzzer.cc: the host's result-record decoder on hostile bytes, and RecordWriter against a
// model.
//
// Every input is used twice: as a record to decode (and its map extent batches to unpack), and as a program of
// writer operations (docs/fuzzing.md).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "cli/chain/corruption_events.h"
#include "cli/map/map_entries.h"
#include "cli/progress/progress_lines.h"
#include "cli/record_decoder.h"
#include "core/ops/info_record.h"
#include "core/ops/map_record.h"
#include "core/ops/progress_record.h"
#include "core/record/record.h"
#include "fuzz-targets/fuzz_support.h"

namespace {

using instar::ByteSpan;
using instar::RecordWriter;
using instar::cli::RecordField;

// Re-encodes a decoded field tree with the core's writer.
void encode(const RecordField& field, RecordWriter& out) {
  for (const RecordField& child : field.children) {
    if (child.is_group) {
      out.begin(child.tag);
      encode(child, out);
      out.end(child.tag);
    } else if (child.is_u64) {
      out.put_u64(child.tag, child.u64);
    } else {
      out.put_bytes(child.tag,
                    ByteSpan(reinterpret_cast<const uint8_t*>(child.bytes.data()), child.bytes.size()));
    }
  }
}

size_t check_tree(const RecordField& field, int depth) {
  INSTAR_FUZZ_CHECK(depth <= instar::kRecordMaxDepth);
  size_t fields = 0;
  for (const RecordField& child : field.children) {
    INSTAR_FUZZ_CHECK(!(child.is_group && child.is_u64));
    if (!child.is_group) INSTAR_FUZZ_CHECK(child.children.empty());
    if (child.is_u64 || child.is_group) INSTAR_FUZZ_CHECK(child.bytes.empty());
    fields += 1 + (child.is_group ? check_tree(child, depth + 1) : 0);
  }
  return fields;
}

// The progress runs convert -p and compare -p print: what decodes is bounded and
// never goes back, and every line has qemu's shape.
void check_progress(const RecordField& root) {
  auto lines = instar::cli::decode_progress(root);
  if (lines.is_error()) {
    INSTAR_FUZZ_CHECK(lines.error().message != nullptr && lines.error().message[0] != '\0');
    return;
  }
  const auto& runs = lines.value().runs;
  INSTAR_FUZZ_CHECK(runs.size() <= instar::kMaxProgressRuns);
  uint64_t total = 0;
  for (size_t i = 0; i < runs.size(); i++) {
    INSTAR_FUZZ_CHECK(runs[i].repeat >= 1);
    INSTAR_FUZZ_CHECK(runs[i].value <= 0x42c80000u);
    if (i > 0) INSTAR_FUZZ_CHECK(runs[i].value > runs[i - 1].value);
    total += runs[i].repeat;
    std::string line = instar::cli::progress_line(runs[i].value);
    INSTAR_FUZZ_CHECK(line.size() >= 16 && line.size() <= 18);
    INSTAR_FUZZ_CHECK(line.compare(0, 5, "    (") == 0 && line.compare(line.size() - 7, 7, "/100%)\r") == 0);
  }
  INSTAR_FUZZ_CHECK(total == lines.value().total);
}

// Part 1: whatever decodes is canonical, so writing the tree back gives the input, byte for byte.
void fuzz_decoder(ByteSpan input) {
  auto decoded = instar::cli::decode_record(input);
  if (decoded.is_error()) {
    INSTAR_FUZZ_CHECK(decoded.error().message != nullptr && decoded.error().message[0] != '\0');
    return;
  }
  const RecordField& root = decoded.value().root;
  INSTAR_FUZZ_CHECK(root.is_group);
  check_tree(root, 0);
  check_progress(root);

  std::vector<uint8_t> again(input.size + 1);
  RecordWriter writer(again.data(), again.size());
  writer.start(decoded.value().operation);
  encode(root, writer);
  INSTAR_FUZZ_CHECK(!writer.failed());
  INSTAR_FUZZ_CHECK(writer.size() == input.size);
  INSTAR_FUZZ_CHECK(std::memcmp(again.data(), input.data, input.size) == 0);

  // The lookups agree with the children (on the first few, to keep the work linear).
  for (size_t i = 0; i < root.children.size() && i < 16; i++) {
    const RecordField& child = root.children[i];
    const RecordField* first = root.find(child.tag);
    INSTAR_FUZZ_CHECK(first != nullptr && first->tag == child.tag && first <= &child);
    INSTAR_FUZZ_CHECK(root.u64_of(child.tag).has_value() == first->is_u64);
    INSTAR_FUZZ_CHECK(root.string_of(child.tag).has_value() == (!first->is_u64 && !first->is_group));
    size_t same = 0;
    for (const RecordField& other : root.children) same += other.tag == child.tag ? 1 : 0;
    INSTAR_FUZZ_CHECK(root.find_all(child.tag).size() == same);
  }

  // Corruption events (cli/chain/corruption_events.h): accepted only as whole qemu lines, all of them or none.
  if (auto events = instar::cli::corruption_events(root)) {
    INSTAR_FUZZ_CHECK(events->size() == root.find_all(instar::kTagCorruptionEvent).size() && events->size() <= 34);
    for (const std::string& line : *events)
      INSTAR_FUZZ_CHECK(line.rfind("qcow2: Image is corrupt: ", 0) == 0 && line.find('\n') == std::string::npos);
  }

  // The map record's extent batches (cli/map/map_entries.h): unpacked, one entry per kMapEntryBytes.
  auto entries = instar::cli::decode_map_entries(root);
  if (entries.is_error()) {
    INSTAR_FUZZ_CHECK(entries.error().message != nullptr && entries.error().message[0] != '\0');
    return;
  }
  size_t packed = 0;
  for (const RecordField* batch : root.find_all(instar::kMapEntries)) {
    INSTAR_FUZZ_CHECK(!batch->is_u64 && !batch->is_group && batch->bytes.size() % instar::kMapEntryBytes == 0);
    packed += batch->bytes.size() / instar::kMapEntryBytes;
  }
  INSTAR_FUZZ_CHECK(entries.value().size() == packed);
  for (const instar::cli::MapEntry& e : entries.value()) {
    INSTAR_FUZZ_CHECK((e.flags & ~uint64_t{15}) == 0 && e.depth < 256);
    if (!e.has_offset) INSTAR_FUZZ_CHECK(e.offset == 0 && e.file == 0);
  }
}

// What the writer must produce, built independently from record.h's layout description.
class ModelRecord {
 public:
  void start(uint16_t operation) {
    bytes_.clear();
    tags_.clear();
    broken_ = false;
    put_le(instar::kRecordMagic, 4);
    put_le(instar::kRecordVersion, 2);
    put_le(operation, 2);
  }
  void field(uint16_t tag, instar::FieldKind kind, ByteSpan payload) {
    put_le(tag, 2);
    bytes_.push_back(static_cast<uint8_t>(kind));
    put_le(payload.size, 4);
    bytes_.insert(bytes_.end(), payload.data, payload.data + payload.size);
  }
  void begin(uint16_t tag) {
    if (tags_.size() >= static_cast<size_t>(instar::kRecordMaxDepth)) broken_ = true;
    tags_.push_back(tag);
    field(tag, instar::FieldKind::begin, ByteSpan());
  }
  // Closes the innermost group; with none open, or with another group's tag, the writer must refuse.
  void end(uint16_t tag) {
    if (tags_.empty() || tags_.back() != tag) {
      broken_ = true;
      return;
    }
    tags_.pop_back();
    field(tag, instar::FieldKind::end, ByteSpan());
  }

  const std::vector<uint8_t>& bytes() const { return bytes_; }
  size_t open_groups() const { return tags_.size(); }
  uint16_t innermost() const { return tags_.back(); }
  bool broken() const { return broken_; }

 private:
  void put_le(uint64_t v, size_t width) {
    for (size_t i = 0; i < width; i++) bytes_.push_back(static_cast<uint8_t>(v >> (8 * i)));
  }

  std::vector<uint8_t> bytes_;
  std::vector<uint16_t> tags_;
  bool broken_ = false;
};

// Part 2: the input as a program of writer calls; the writer fails exactly when the model says it must,
// and otherwise writes the model's bytes, which decode.
void fuzz_writer(ByteSpan input) {
  instar::fuzz::InputReader in(input);
  // Small capacities make the writer run out of room part-way through.
  size_t capacity = in.u16() % 4096 + (in.u8() & 1) * 65536;
  static uint8_t buffer[4096 + 65536];
  RecordWriter writer(buffer, capacity);
  ModelRecord model;
  uint16_t operation = in.u16();
  writer.start(operation);
  model.start(operation);

  for (int ops = 0; ops < 4096 && !in.empty(); ops++) {
    uint8_t op = in.u8();
    uint16_t tag = in.u16();
    switch (op % 7) {
      case 0: {
        uint64_t value = in.u64();
        writer.put_u64(tag, value);
        uint8_t le[8];
        for (int i = 0; i < 8; i++) le[i] = static_cast<uint8_t>(value >> (8 * i));
        model.field(tag, instar::FieldKind::u64, ByteSpan(le, 8));
        break;
      }
      case 1: {
        bool value = (in.u8() & 1) != 0;
        writer.put_bool(tag, value);
        uint8_t le[8] = {static_cast<uint8_t>(value ? 1 : 0)};
        model.field(tag, instar::FieldKind::u64, ByteSpan(le, 8));
        break;
      }
      case 2: {
        ByteSpan payload = in.bytes(in.u8());
        writer.put_bytes(tag, payload);
        model.field(tag, instar::FieldKind::bytes, payload);
        break;
      }
      case 3: {
        char text[65] = {};
        ByteSpan raw = in.bytes(in.u8() % 64);
        std::memcpy(text, raw.data, raw.size);
        writer.put_string(tag, text);
        model.field(tag, instar::FieldKind::bytes,
                    ByteSpan(reinterpret_cast<const uint8_t*>(text), std::strlen(text)));
        break;
      }
      case 4:
        writer.begin(tag);
        model.begin(tag);
        break;
      case 5: {
        // Mostly the right tag; an odd tag tries to close the group with the wrong one.
        uint16_t closing = model.open_groups() > 0 && (tag & 1) == 0 ? model.innermost() : tag;
        writer.end(closing);
        model.end(closing);
        break;
      }
      default:
        // start() begins a new record and forgets any failure.
        writer.start(tag);
        model.start(tag);
        break;
    }
  }
  // Leave a group open now and then: finish() must then fail the record.
  bool leave_open = model.open_groups() > 0 && (operation & 1) != 0;
  while (!leave_open && model.open_groups() > 0) {
    uint16_t innermost = model.innermost();
    writer.end(innermost);
    model.end(innermost);
  }
  writer.finish();

  bool must_fail = model.broken() || leave_open || model.bytes().size() > capacity;
  INSTAR_FUZZ_CHECK(writer.failed() == must_fail);
  if (must_fail) return;
  INSTAR_FUZZ_CHECK(writer.size() == model.bytes().size());
  INSTAR_FUZZ_CHECK(std::memcmp(writer.data(), model.bytes().data(), writer.size()) == 0);
  auto decoded = instar::cli::decode_record(ByteSpan(writer.data(), writer.size()));
  INSTAR_FUZZ_CHECK(decoded.is_ok());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > instar::fuzz::kMaxInputBytes) return 0;
  ByteSpan input(data, size);
  fuzz_decoder(input);
  fuzz_writer(input);
  return 0;
}
