// record_decoder.h: decodes a result record (hostile input) into a field tree.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/base/bytes.h"
#include "core/base/result.h"

namespace instar::cli {

struct RecordField {
  uint16_t tag = 0;
  bool is_group = false;
  bool is_u64 = false;
  uint64_t u64 = 0;
  std::string bytes;
  std::vector<RecordField> children;

  const RecordField* find(uint16_t t) const;
  std::vector<const RecordField*> find_all(uint16_t t) const;
  std::optional<uint64_t> u64_of(uint16_t t) const;
  std::optional<std::string> string_of(uint16_t t) const;
  bool bool_of(uint16_t t) const { return u64_of(t).value_or(0) != 0; }
};

struct DecodedRecord {
  uint16_t operation = 0;
  RecordField root;  // a group holding the top-level fields
};

inline constexpr size_t kMaxRecordSize = 64u << 20;

// The error a record carries (kTagErrorMessage with its "{}" details filled
// in), or nullopt for a record without one.
std::optional<std::string> record_error_message(const RecordField& root);

// Rejects a wrong magic or version, truncated fields, unknown kinds, u64 fields
// of the wrong length, unbalanced or too deep groups, and oversized records.
Result<DecodedRecord> decode_record(ByteSpan bytes);

}  // namespace instar::cli
