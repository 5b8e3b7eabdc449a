// qcow2_metadata_fuzzer.cc: the snapshot table, bitmap directory and LUKS header parsers on slices of the
// input.
//
// Input: a 32-byte parameter block, then the table bytes (docs/fuzzing.md):
//   [0] parser (mod 3: snapshots, bitmaps, LUKS)  [1] cluster bits (9 + value mod 13)
//   [2] bit 0: qemu 10.0 rules (else 7.2)  [3] unused  [4..8) entry count
//   [8..16) table offset  [16..24) directory size  [24..32) virtual disk size (all big-endian)
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>

#include "core/crypto/luks_header.h"
#include "core/ops/measure_snapshot.h"
#include "core/qcow2/bitmap_directory.h"
#include "core/qcow2/header.h"
#include "core/qcow2/snapshot_table.h"
#include "fuzz-targets/fuzz_support.h"

namespace {

using instar::ByteSpan;
using instar::Result;
using instar::fuzz::has_nul;
using instar::fuzz::same_error;
using instar::fuzz::span_within;

constexpr size_t kParameterBytes = 32;

struct Parameters {
  uint8_t parser;
  uint64_t cluster_size;
  bool qemu_10;
  uint32_t count;
  uint64_t offset;
  uint64_t directory_size;
  uint64_t disk_size;
};

Parameters read_parameters(instar::fuzz::InputReader& in) {
  Parameters p{};
  p.parser = in.u8() % 3;
  p.cluster_size = uint64_t{1} << (instar::qcow2::kMinClusterBits + in.u8() % 13);
  p.qemu_10 = (in.u8() & 1) != 0;
  (void)in.u8();
  p.count = in.u32();
  p.offset = in.u64();
  p.directory_size = in.u64();
  p.disk_size = in.u64();
  return p;
}

// Draining next() and validate() agree; an error repeats, and so does the end.
template <typename Reader, typename Entry, typename CheckEntry>
void check_reader(const Reader& fresh, CheckEntry check_entry) {
  Result<void> validated = fresh.validate();
  INSTAR_FUZZ_CHECK(fresh.entries_read() == 0);
  Reader reader = fresh;
  Entry entry{};
  uint32_t entries = 0;
  for (;;) {
    Result<bool> more = reader.next(entry);
    if (more.is_error()) {
      INSTAR_FUZZ_CHECK(validated.is_error());
      INSTAR_FUZZ_CHECK(same_error(more.error(), validated.error()));
      Result<bool> again = reader.next(entry);
      INSTAR_FUZZ_CHECK(again.is_error() && same_error(again.error(), more.error()));
      return;
    }
    if (!more.value()) break;
    entries++;
    INSTAR_FUZZ_CHECK(reader.entries_read() == entries);
    check_entry(reader, entry);
  }
  INSTAR_FUZZ_CHECK(validated.is_ok());
  Result<bool> again = reader.next(entry);
  INSTAR_FUZZ_CHECK(again.is_ok() && !again.value());
}

instar::SnapshotKey key_of(ByteSpan text) {
  instar::SnapshotKey key;
  key.present = true;
  key.length = static_cast<uint16_t>(text.size < instar::kSnapshotKeyMax ? text.size : instar::kSnapshotKeyMax - 1);
  for (size_t i = 0; i < key.length; i++) key.bytes[i] = static_cast<char>(text.data[i]);
  return key;
}

bool same(ByteSpan a, const instar::SnapshotKey& key) {
  return a.size == key.length && std::memcmp(a.data, key.bytes, a.size) == 0;
}

// measure -l's lookup (find_measure_snapshot) with the keys of entry `index`, `s`: whatever it finds is
// at or before that entry and matches the keys as qemu's find_snapshot_by_id_and_name would.
void check_lookup(const instar::Qcow2SnapshotReader& fresh, int64_t index, const instar::Qcow2Snapshot& s) {
  if (s.id.size >= instar::kSnapshotKeyMax || s.name.size >= instar::kSnapshotKeyMax) return;
  instar::MeasureParams both;
  both.lookup = instar::SnapshotLookup::id_and_name;
  both.id = key_of(s.id);
  both.name = key_of(s.name);
  instar::Qcow2Snapshot found{};
  auto r = instar::find_measure_snapshot(both, fresh, found);
  INSTAR_FUZZ_CHECK(r.is_ok() && r.value() >= 0 && r.value() <= index);
  INSTAR_FUZZ_CHECK(same(found.id, both.id) && same(found.name, both.name));
  instar::MeasureParams text;
  text.lookup = instar::SnapshotLookup::id_or_name;
  text.id = key_of(s.name);
  r = instar::find_measure_snapshot(text, fresh, found);
  INSTAR_FUZZ_CHECK(r.is_ok() && r.value() >= 0);
  INSTAR_FUZZ_CHECK(same(found.id, text.id) || (same(found.name, text.id) && r.value() <= index));
  instar::MeasureParams none;
  none.lookup = instar::SnapshotLookup::id_and_name;
  r = instar::find_measure_snapshot(none, fresh, found);
  INSTAR_FUZZ_CHECK(r.is_ok() && r.value() == -1);
}

void fuzz_snapshots(const Parameters& p, ByteSpan table) {
  // validate_tables() lets at most 65536 entries through. Counts beyond fold to small ones: a random count
  // is otherwise nearly always tens of thousands of zero entries read past the end, which costs speed.
  uint32_t count = p.count <= instar::qcow2::kMaxSnapshots ? p.count : p.count % 257;
  instar::Qcow2SnapshotReader fresh(table, count, p.cluster_size, p.offset);
  uint64_t last_length = 0;
  check_reader<instar::Qcow2SnapshotReader, instar::Qcow2Snapshot>(
      fresh, [&](const instar::Qcow2SnapshotReader& reader, const instar::Qcow2Snapshot& s) {
        INSTAR_FUZZ_CHECK(span_within(s.id, table) && !has_nul(s.id));
        INSTAR_FUZZ_CHECK(span_within(s.name, table) && !has_nul(s.name));
        INSTAR_FUZZ_CHECK(s.extra_data_size <= instar::kQcow2MaxSnapshotExtraData);
        INSTAR_FUZZ_CHECK(s.has_icount == (s.icount != UINT64_MAX));
        if (s.has_disk_size) INSTAR_FUZZ_CHECK(s.extra_data_size >= 16);
        INSTAR_FUZZ_CHECK(reader.table_length() > last_length);
        INSTAR_FUZZ_CHECK(reader.table_length() <= instar::kQcow2MaxSnapshotTableBytes);
        last_length = reader.table_length();
        if (reader.validate_l1(s).is_ok()) {
          INSTAR_FUZZ_CHECK(uint64_t{s.l1_size} * instar::qcow2::kL1EntrySize <= instar::qcow2::kMaxL1Bytes);
          INSTAR_FUZZ_CHECK(s.l1_table_offset % p.cluster_size == 0);
        }
        // The lookup reads the whole table again: only for the first entries, and only once the table is valid.
        if (reader.entries_read() <= 4 && fresh.validate().is_ok())
          check_lookup(fresh, static_cast<int64_t>(reader.entries_read()) - 1, s);
      });
}

// format_error() writes a NUL-terminated text of the returned length; a smaller buffer gets a prefix.
void check_bitmap_error_text(const instar::Qcow2BitmapReader& reader, bool failed) {
  constexpr size_t kFull = 2048;  // the longest: "Bitmap '" + a 1023-byte name + 33 bytes
  std::unique_ptr<char[]> full(new char[kFull]);
  size_t full_length = reader.format_error(full.get(), kFull);
  INSTAR_FUZZ_CHECK(instar::fuzz::nul_terminated_within(full.get(), kFull));
  INSTAR_FUZZ_CHECK(std::strlen(full.get()) == full_length);
  INSTAR_FUZZ_CHECK(failed == (full_length > 0));
  INSTAR_FUZZ_CHECK(full_length < kFull - 1);
  for (size_t capacity : {size_t{1}, size_t{9}, size_t{40}}) {
    std::unique_ptr<char[]> out(new char[capacity]);
    size_t length = reader.format_error(out.get(), capacity);
    INSTAR_FUZZ_CHECK(instar::fuzz::nul_terminated_within(out.get(), capacity));
    INSTAR_FUZZ_CHECK(length == std::strlen(out.get()));
    INSTAR_FUZZ_CHECK(length == (full_length < capacity - 1 ? full_length : capacity - 1));
    INSTAR_FUZZ_CHECK(std::memcmp(out.get(), full.get(), length) == 0);
  }
  if (reader.error_name().size > 0) {
    ByteSpan name = reader.error_name();
    INSTAR_FUZZ_CHECK(full_length >= name.size + 8 && std::memcmp(full.get() + 8, name.data, name.size) == 0);
  }
}

void fuzz_bitmaps(const Parameters& p, ByteSpan directory) {
  instar::qcow2::BitmapsExtension ext;
  // The extension parser lets at most 65535 bitmaps through; 0 means "no directory".
  ext.nb_bitmaps = p.count % (instar::qcow2::kMaxBitmaps + 1);
  ext.directory_offset = p.offset;
  ext.directory_size = p.directory_size;
  uint64_t disk_size = p.disk_size / 512 * 512;
  instar::Qcow2BitmapReader fresh(directory, ext, p.cluster_size, disk_size);
  check_reader<instar::Qcow2BitmapReader, instar::Qcow2Bitmap>(
      fresh, [&](const instar::Qcow2BitmapReader&, const instar::Qcow2Bitmap& b) {
        INSTAR_FUZZ_CHECK(span_within(b.name, directory) && !has_nul(b.name));
        INSTAR_FUZZ_CHECK(b.name.size <= 1023);
        INSTAR_FUZZ_CHECK(b.type == 1);
        INSTAR_FUZZ_CHECK((b.flags & ~(instar::kQcow2BitmapInUse | instar::kQcow2BitmapAuto)) == 0);
        INSTAR_FUZZ_CHECK(b.granularity_bits >= 9 && b.granularity_bits <= 31);
        INSTAR_FUZZ_CHECK(b.table_size >= 1 && b.table_size <= 0x8000000);
        INSTAR_FUZZ_CHECK(b.table_offset != 0 && b.table_offset % p.cluster_size == 0);
      });

  instar::Qcow2BitmapReader reader = fresh;
  check_bitmap_error_text(reader, false);
  instar::Qcow2Bitmap b{};
  Result<bool> more = true;
  while (more.is_ok() && more.value()) more = reader.next(b);
  check_bitmap_error_text(reader, more.is_error());

  // Bitmap table entries (the first few 8-byte words of the slice).
  instar::fuzz::InputReader words(directory);
  for (int i = 0; i < 16 && !words.empty(); i++) {
    uint64_t entry = words.u64();
    if (instar::qcow2_bitmap_table_entry_valid(entry, p.cluster_size)) {
      uint64_t offset = entry & 0x00fffffffffffe00ull;
      INSTAR_FUZZ_CHECK(offset % p.cluster_size == 0);
      INSTAR_FUZZ_CHECK((entry & 0xff000000000001feull) == 0);
    }
  }
}

bool c_string_in(const char* field, size_t capacity) {
  return instar::fuzz::nul_terminated_within(field, capacity) && field[0] != '\0';
}

void check_luks_info(const instar::LuksInfo& info) {
  INSTAR_FUZZ_CHECK(c_string_in(info.cipher_alg, sizeof info.cipher_alg));
  INSTAR_FUZZ_CHECK(c_string_in(info.cipher_mode, sizeof info.cipher_mode));
  INSTAR_FUZZ_CHECK(c_string_in(info.ivgen_alg, sizeof info.ivgen_alg));
  INSTAR_FUZZ_CHECK(c_string_in(info.hash_alg, sizeof info.hash_alg));
  INSTAR_FUZZ_CHECK(instar::fuzz::nul_terminated_within(info.uuid, sizeof info.uuid));
  bool essiv = std::strcmp(info.ivgen_alg, "essiv") == 0;
  INSTAR_FUZZ_CHECK(info.has_ivgen_hash_alg == essiv);
  if (essiv) INSTAR_FUZZ_CHECK(c_string_in(info.ivgen_hash_alg, sizeof info.ivgen_hash_alg));
  // The header checks passed: the payload and every key slot lie past the 4 KiB header (a slot may still
  // end past the payload: qemu compares a 32-bit sum that can wrap).
  INSTAR_FUZZ_CHECK(info.payload_offset_bytes >= 4096 && !info.detached_header);
  INSTAR_FUZZ_CHECK(info.master_key_iters > 0);
  for (const instar::LuksSlot& slot : info.slots) {
    INSTAR_FUZZ_CHECK(slot.stripes == instar::kLuksStripes);
    INSTAR_FUZZ_CHECK(slot.key_offset_bytes >= 4096);
    if (slot.active) INSTAR_FUZZ_CHECK(slot.iters > 0);
  }
}

void fuzz_luks_with(ByteSpan header, const instar::LuksParseOptions& options) {
  auto parsed = instar::parse_luks_header(header, options);
  constexpr size_t kFull = 512;
  std::unique_ptr<char[]> full(new char[kFull]);
  size_t full_length = instar::format_luks_error(header, full.get(), kFull, options);
  INSTAR_FUZZ_CHECK(instar::fuzz::nul_terminated_within(full.get(), kFull));
  INSTAR_FUZZ_CHECK(std::strlen(full.get()) == full_length);
  // The exact text exists exactly when parsing fails (the names it embeds are at most 32 bytes).
  INSTAR_FUZZ_CHECK(parsed.is_ok() == (full_length == 0));
  INSTAR_FUZZ_CHECK(full_length < kFull - 1);
  for (size_t capacity : {size_t{1}, size_t{12}, size_t{48}}) {
    std::unique_ptr<char[]> out(new char[capacity]);
    size_t length = instar::format_luks_error(header, out.get(), capacity, options);
    INSTAR_FUZZ_CHECK(instar::fuzz::nul_terminated_within(out.get(), capacity));
    INSTAR_FUZZ_CHECK(length == std::strlen(out.get()));
    INSTAR_FUZZ_CHECK(length == (full_length < capacity - 1 ? full_length : capacity - 1));
    INSTAR_FUZZ_CHECK(std::memcmp(out.get(), full.get(), length) == 0);
  }
  if (parsed.is_ok()) check_luks_info(parsed.value());
}

void fuzz_luks(const Parameters& p, ByteSpan bytes) {
  // As qcow2 info reads it: exactly the header, zero-padded past the end of the file.
  uint8_t header[instar::kLuksHeaderBytes] = {};
  ByteSpan present = bytes.subspan(0, sizeof header);
  std::memcpy(header, present.data, present.size);
  ByteSpan padded(header, sizeof header);
  fuzz_luks_with(padded, p.qemu_10 ? instar::kLuksQemu100 : instar::kLuksQemu72);

  // The slice as it is: too short is refused, longer reads only the header.
  auto direct = instar::parse_luks_header(bytes, p.qemu_10 ? instar::kLuksQemu100 : instar::kLuksQemu72);
  auto of_padded = instar::parse_luks_header(padded, p.qemu_10 ? instar::kLuksQemu100 : instar::kLuksQemu72);
  if (bytes.size < instar::kLuksHeaderBytes)
    INSTAR_FUZZ_CHECK(direct.is_error() && direct.error().code == instar::Errc::truncated);
  else
    INSTAR_FUZZ_CHECK(direct.is_ok() == of_padded.is_ok());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > instar::fuzz::kMaxInputBytes) return 0;
  instar::fuzz::InputReader in(ByteSpan(data, size));
  Parameters p = read_parameters(in);
  ByteSpan slice = ByteSpan(data, size).subspan(kParameterBytes);
  switch (p.parser) {
    case 0:
      fuzz_snapshots(p, slice);
      break;
    case 1:
      fuzz_bitmaps(p, slice);
      break;
    default:
      fuzz_luks(p, slice);
      break;
  }
  return 0;
}
