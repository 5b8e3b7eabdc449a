// record_decoder.cc: bounded decoding with the core's SpanReader.
#include "cli/record_decoder.h"

#include "core/ops/info_record.h"

#include "core/base/span_reader.h"
#include "core/record/record.h"

namespace instar::cli {

const RecordField* RecordField::find(uint16_t t) const {
  for (const auto& c : children)
    if (c.tag == t) return &c;
  return nullptr;
}

std::vector<const RecordField*> RecordField::find_all(uint16_t t) const {
  std::vector<const RecordField*> out;
  for (const auto& c : children)
    if (c.tag == t) out.push_back(&c);
  return out;
}

std::optional<uint64_t> RecordField::u64_of(uint16_t t) const {
  const RecordField* f = find(t);
  if (f == nullptr || !f->is_u64) return std::nullopt;
  return f->u64;
}

std::optional<std::string> RecordField::string_of(uint16_t t) const {
  const RecordField* f = find(t);
  if (f == nullptr || f->is_u64 || f->is_group) return std::nullopt;
  return f->bytes;
}

Result<DecodedRecord> decode_record(ByteSpan bytes) {
  auto bad = [](const char* why) { return make_error(Errc::invalid, why); };
  if (bytes.size > kMaxRecordSize) return bad("result record too large");
  SpanReader r(bytes);
  uint32_t magic;
  uint16_t version;
  DecodedRecord out;
  if (!r.read_u32_le(magic) || !r.read_u16_le(version) || !r.read_u16_le(out.operation))
    return bad("result record truncated");
  if (magic != kRecordMagic) return bad("result record has a bad magic");
  if (version != kRecordVersion) return bad("result record has an unsupported version");
  out.root.is_group = true;
  std::vector<RecordField*> stack{&out.root};
  while (r.remaining() > 0) {
    uint16_t tag;
    uint8_t kind;
    uint32_t length;
    if (!r.read_u16_le(tag) || !r.read_u8(kind) || !r.read_u32_le(length))
      return bad("result record truncated");
    ByteSpan payload;
    if (!r.read_bytes(length, payload)) return bad("result record field truncated");
    RecordField field;
    field.tag = tag;
    switch (static_cast<FieldKind>(kind)) {
      case FieldKind::u64: {
        if (length != 8) return bad("result record integer field has a bad length");
        SpanReader pr(payload);
        (void)pr.read_u64_le(field.u64);
        field.is_u64 = true;
        stack.back()->children.push_back(std::move(field));
        break;
      }
      case FieldKind::bytes:
        field.bytes.assign(reinterpret_cast<const char*>(payload.data), payload.size);
        stack.back()->children.push_back(std::move(field));
        break;
      case FieldKind::begin:
        if (length != 0) return bad("result record group has a payload");
        if (stack.size() > static_cast<size_t>(kRecordMaxDepth)) return bad("result record nests too deeply");
        field.is_group = true;
        stack.back()->children.push_back(std::move(field));
        stack.push_back(&stack.back()->children.back());
        break;
      case FieldKind::end:
        if (length != 0 || stack.size() == 1 || stack.back()->tag != tag)
          return bad("result record groups are unbalanced");
        stack.pop_back();
        break;
      default:
        return bad("result record has an unknown field kind");
    }
  }
  if (stack.size() != 1) return bad("result record groups are unbalanced");
  return out;
}

std::optional<std::string> record_error_message(const RecordField& root) {
  auto message = root.string_of(kTagErrorMessage);
  if (!message) return std::nullopt;
  std::string text = *message;
  // An error inside the n-th backing file: qemu nests "Could not open backing file: " n times.
  uint64_t depth = root.u64_of(kTagErrorBackingDepth).value_or(0);
  std::string prefix;
  for (uint64_t i = 0; i < depth && i < 16; i++) prefix += "Could not open backing file: ";
  if (auto d = root.u64_of(kTagErrorDetail)) {
    size_t from = 0;
    for (uint64_t n : {*d, root.u64_of(kTagErrorDetail2).value_or(0)}) {
      size_t at = text.find("{}", from);
      if (at == std::string::npos) break;
      std::string number = std::to_string(n);
      text.replace(at, 2, number);
      from = at + number.size();
    }
  }
  return prefix + text;
}

}  // namespace instar::cli
