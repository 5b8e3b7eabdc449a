// qcow2_layer.cc: qcow2 block status as qemu's qcow2 driver computes it
// (qcow2_get_host_offset, count_contiguous_subclusters, the subcluster types).
#include "core/image/qcow2_layer.h"

#include "core/base/checked.h"
#include "core/compress/cluster_codecs.h"

namespace instar::image {

namespace {

constexpr uint64_t kOffsetMask = 0x00fffffffffffe00ull;  // L1 and L2 entries, refcount table
constexpr uint64_t kCopied = 1ull << 63;
constexpr uint64_t kCompressedFlag = 1ull << 62;
constexpr uint64_t kZeroFlag = 1ull;
constexpr uint32_t kIntMax = 0x7fffffffu;

uint64_t be64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; i++) v = (v << 8) | p[i];
  return v;
}
uint64_t be_n(const uint8_t* p, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; i++) v = (v << 8) | p[i];
  return v;
}

uint32_t count_trailing_ones(uint32_t v) {
  uint32_t n = 0;
  while (n < 32 && (v & (1u << n))) n++;
  return n;
}
uint32_t count_trailing_zeros(uint32_t v) {
  uint32_t n = 0;
  while (n < 32 && !(v & (1u << n))) n++;
  return n;
}
// Bits [from, to) of a 32-bit subcluster mask.
uint64_t range_bits(uint32_t from, uint32_t to) {
  uint64_t upto = to >= 64 ? ~0ull : (1ull << to) - 1;
  uint64_t below = (1ull << from) - 1;
  return upto & ~below;
}

}  // namespace

uint32_t l2_slice_entries(uint64_t virtual_size, uint32_t cluster_bits, uint32_t l2_entry_bytes) {
  // qemu's read_cache_sizes with no cache options: an L2 cache of at most 32 MiB (Linux's
  // DEFAULT_L2_CACHE_MAX_SIZE); when that cannot hold every L2 table of the disk, its entries (slices)
  // are 4 KiB instead of a whole cluster.
  constexpr uint64_t kDefaultL2CacheMax = 32ull << 20;
  const uint64_t cluster = uint64_t{1} << cluster_bits;
  uint64_t l2_entries = (virtual_size >> cluster_bits) + ((virtual_size & (cluster - 1)) != 0 ? 1 : 0);
  uint64_t max_l2_cache = l2_entries * l2_entry_bytes;  // qcow2 sizes stay far below 2^64 / 16
  max_l2_cache = (max_l2_cache + cluster - 1) & ~(cluster - 1);
  uint64_t entry_size = cluster;
  if (max_l2_cache > kDefaultL2CacheMax && cluster > 4096) entry_size = 4096;
  return static_cast<uint32_t>(entry_size / l2_entry_bytes);
}

Result<void> Qcow2Layer::init(BlockDevice& image, const qcow2::OpenedImage& o, BlockDevice& data,
                              uint8_t data_number, Arena& scratch) {
  const qcow2::Header& h = o.header;
  image_ = &image;
  data_ = &data;
  data_number_ = data_number;
  cluster_bits_ = h.cluster_bits;
  subclusters_ = h.extended_l2() ? 32 : 1;
  subcluster_bits_ = h.extended_l2() ? h.cluster_bits - 5 : h.cluster_bits;
  l2_entry_bytes_ = h.extended_l2() ? 16 : 8;
  l2_entries_ = static_cast<uint32_t>(cluster_size() / l2_entry_bytes_);
  slice_entries_ = l2_slice_entries(h.size, cluster_bits_, l2_entry_bytes_);
  version_ = h.version;
  refcount_order_ = h.refcount_order;
  external_data_ = o.has_data_file;
  encrypted_ = h.crypt_method != qcow2::kCryptNone;
  size = h.size / 512 * 512;
  supports_backing = true;

  l1_size_ = h.l1_size;
  if (l1_size_ > 0) {
    INSTAR_TRY_ASSIGN(l1, scratch.allocate(size_t{l1_size_} * 8));
    INSTAR_TRY(read_zero_padded(image, h.l1_table_offset, l1, size_t{l1_size_} * 8));
    l1_ = l1;
  }
  reftable_entries_ = uint64_t{h.refcount_table_clusters} << h.cluster_bits >> 3;
  if (reftable_entries_ > 0) {
    INSTAR_TRY_ASSIGN(table, scratch.allocate(static_cast<size_t>(reftable_entries_ * 8)));
    INSTAR_TRY(
        read_zero_padded(image, h.refcount_table_offset, table, static_cast<size_t>(reftable_entries_ * 8)));
    reftable_ = table;
  }
  for (size_t i = 0; i < kL2Slots; i++) {
    INSTAR_TRY_ASSIGN(slot, scratch.allocate(static_cast<size_t>(cluster_size())));
    l2_buffer_[i] = slot;
  }
  INSTAR_TRY_ASSIGN(refblock, scratch.allocate(static_cast<size_t>(cluster_size())));
  refblock_ = refblock;
  compression_type_ = h.compression_type;
  scratch_ = &scratch;
  return ok();
}

Result<void> Qcow2Layer::load_snapshot_l1(uint64_t l1_offset, uint32_t l1_size, Arena& scratch) {
  uint8_t* l1 = nullptr;
  if (l1_size > 0) {
    INSTAR_TRY_ASSIGN(table, scratch.allocate(size_t{l1_size} * 8));
    INSTAR_TRY(read_zero_padded(*image_, l1_offset, table, size_t{l1_size} * 8));
    l1 = table;
  }
  l1_ = l1;
  l1_size_ = l1_size;
  return ok();
}

Result<const uint8_t*> Qcow2Layer::l2_table(uint64_t l2_offset) {
  for (size_t i = 0; i < kL2Slots; i++)
    if (l2_cached_[i] == l2_offset) return static_cast<const uint8_t*>(l2_buffer_[i]);
  size_t slot = l2_next_;
  l2_next_ = (l2_next_ + 1) % kL2Slots;
  l2_cached_[slot] = 0;
  INSTAR_TRY(read_zero_padded(*image_, l2_offset, l2_buffer_[slot], static_cast<size_t>(cluster_size())));
  l2_cached_[slot] = l2_offset;
  return static_cast<const uint8_t*>(l2_buffer_[slot]);
}

Qcow2Layer::Type Qcow2Layer::subcluster_type(uint64_t entry, uint64_t bitmap, uint32_t sc) const {
  // The cluster type first.
  enum class Cluster { normal, compressed, zero_plain, zero_alloc, unallocated } cluster;
  if (entry & kCompressedFlag) {
    cluster = Cluster::compressed;
  } else if ((entry & kZeroFlag) && subclusters_ == 1) {
    cluster = (entry & kOffsetMask) ? Cluster::zero_alloc : Cluster::zero_plain;
  } else if (!(entry & kOffsetMask)) {
    // Offset 0 is a valid place in an external data file; COPIED says so.
    cluster = (external_data_ && (entry & kCopied)) ? Cluster::normal : Cluster::unallocated;
  } else {
    cluster = Cluster::normal;
  }
  if (subclusters_ == 1) {
    switch (cluster) {
      case Cluster::compressed:
        return Type::compressed;
      case Cluster::zero_plain:
        return Type::zero_plain;
      case Cluster::zero_alloc:
        return Type::zero_alloc;
      case Cluster::normal:
        return Type::normal;
      default:
        return Type::unallocated_plain;
    }
  }
  uint64_t alloc_bit = 1ull << sc, zero_bit = 1ull << (sc + 32);
  switch (cluster) {
    case Cluster::compressed:
      return Type::compressed;
    case Cluster::normal:
      if ((bitmap >> 32) & bitmap) return Type::invalid;
      if (bitmap & zero_bit) return Type::zero_alloc;
      if (bitmap & alloc_bit) return Type::normal;
      return Type::unallocated_alloc;
    default:
      if (bitmap & 0xffffffffull) return Type::invalid;
      if (bitmap & zero_bit) return Type::zero_plain;
      return Type::unallocated_plain;
  }
}

int32_t Qcow2Layer::range_type(uint64_t entry, uint64_t bitmap, uint32_t sc, Type* type) const {
  Type t = subcluster_type(entry, bitmap, sc);
  *type = t;
  if (t == Type::invalid) return -1;
  if (subclusters_ == 1 || t == Type::compressed) return static_cast<int32_t>(subclusters_ - sc);
  switch (t) {
    case Type::normal:
      return static_cast<int32_t>(count_trailing_ones(static_cast<uint32_t>(bitmap | range_bits(0, sc))) -
                                  sc);
    case Type::zero_plain:
    case Type::zero_alloc:
      return static_cast<int32_t>(
          count_trailing_ones(static_cast<uint32_t>((bitmap | (range_bits(0, sc) << 32)) >> 32)) - sc);
    default: {
      uint32_t v = static_cast<uint32_t>(((bitmap >> 32) | bitmap) & ~range_bits(0, sc));
      return static_cast<int32_t>(count_trailing_zeros(v) - sc);
    }
  }
}

Result<uint64_t> Qcow2Layer::refcount(uint64_t cluster) {
  // A refcount block holds cluster_size * 8 / refcount_bits entries.
  uint32_t entry_bits = 1u << refcount_order_;
  uint32_t per_block_bits = cluster_bits_ + 3 - refcount_order_;
  uint64_t index = cluster >> per_block_bits;
  if (index >= reftable_entries_) return uint64_t{0};
  uint64_t block = be64(reftable_ + index * 8) & kOffsetMask;
  if (block == 0) return uint64_t{0};
  if (block & (cluster_size() - 1)) {
    event_.refblock_unaligned(block, index, event_clock_);
    return make_error(Errc::io, "Input/output error");
  }
  if (refblock_cached_ != block) {
    refblock_cached_ = 0;
    INSTAR_TRY(read_zero_padded(*image_, block, refblock_, static_cast<size_t>(cluster_size())));
    refblock_cached_ = block;
  }
  uint64_t i = cluster & ((uint64_t{1} << per_block_bits) - 1);
  uint64_t bit = i * entry_bits;
  const uint8_t* p = refblock_ + bit / 8;
  switch (entry_bits) {
    case 64:
      return be64(p);
    case 32:
      return be_n(p, 4);
    case 16:
      return be_n(p, 2);
    case 8:
      return uint64_t{*p};
    default:
      return uint64_t{(*p >> (bit % 8)) & ((1u << entry_bits) - 1)};
  }
}

bool Qcow2Layer::detect_metadata_preallocation() {
  // qemu's heuristic: many more clusters have a refcount than the file has
  // blocks on disk means the metadata was preallocated over holes.
  uint64_t file_length = image::file_length(image_->size());
  uint64_t real_clusters = image_->allocated_size() >> cluster_bits_;
  uint64_t threshold = real_clusters * 10 / 9;
  if (threshold < real_clusters + 2) threshold = real_clusters + 2;
  uint64_t end_cluster = (file_length + cluster_size() - 1) >> cluster_bits_;
  uint64_t count = 0;
  for (uint64_t i = 0; i < end_cluster && count < threshold; i++) {
    auto r = refcount(i);
    if (r.is_error()) return false;
    count += r.value() != 0 ? 1 : 0;
  }
  return count >= threshold;
}

Result<Status> Qcow2Layer::driver_status(uint64_t offset, uint64_t bytes) {
  if (!prealloc_checked_) {
    metadata_preallocation_ = !reads_only_ && detect_metadata_preallocation();
    prealloc_checked_ = true;
  }
  if (bytes > kIntMax) bytes = kIntMax;
  uint64_t in_cluster = offset & (cluster_size() - 1);
  uint64_t needed = bytes + in_cluster;
  // qemu answers at most to the end of the L2 slice its cache holds (qcow2_get_host_offset).
  // l2_index is the entry's index in that slice (what qemu's events name);
  // the whole table is held, so the entry itself is at its index in the table.
  uint64_t l2_index = (offset >> cluster_bits_) & (slice_entries_ - 1);
  uint64_t table_index = (offset >> cluster_bits_) & (l2_entries_ - 1);
  uint64_t available = (uint64_t{slice_entries_} - l2_index) << cluster_bits_;
  if (needed > available) needed = available;

  Type type = Type::unallocated_plain;
  uint64_t host = 0;
  uint64_t l1_index = offset >> (cluster_bits_ + (cluster_bits_ - (l2_entry_bytes_ == 16 ? 4 : 3)));
  uint64_t l2_offset = l1_index < l1_size_ ? be64(l1_ + l1_index * 8) & kOffsetMask : 0;
  if (l2_offset != 0) {
    // The corruption events qemu signals here (qcow2_get_host_offset), in its order.
    const uint32_t index = static_cast<uint32_t>(l2_index);
    if (l2_offset & (cluster_size() - 1)) {
      event_.l2_table_unaligned(l2_offset, l1_index, event_clock_);
      return make_error(Errc::io, "Input/output error");
    }
    INSTAR_TRY_ASSIGN(table, l2_table(l2_offset));
    uint32_t sc = static_cast<uint32_t>((offset >> subcluster_bits_) & (subclusters_ - 1));
    uint64_t clusters = (needed + cluster_size() - 1) >> cluster_bits_;
    const uint8_t* e = table + table_index * l2_entry_bytes_;
    uint64_t entry = be64(e);
    uint64_t bitmap = l2_entry_bytes_ == 16 ? be64(e + 8) : 0;
    type = subcluster_type(entry, bitmap, sc);
    if (version_ < 3 && (type == Type::zero_plain || type == Type::zero_alloc)) {
      event_.zero_in_v2(l2_offset, index, event_clock_);
      return make_error(Errc::io, "Input/output error");
    }
    if (type == Type::compressed) {
      if (external_data_) {
        event_.compressed_with_data_file(l2_offset, index, event_clock_);
        return make_error(Errc::io, "Input/output error");
      }
      host = entry;
    } else if (type == Type::normal || type == Type::zero_alloc || type == Type::unallocated_alloc) {
      uint64_t cluster_host = entry & kOffsetMask;
      host = cluster_host + in_cluster;
      if (cluster_host & (cluster_size() - 1)) {
        event_.cluster_unaligned(cluster_host, l2_offset, index, event_clock_);
        return make_error(Errc::io, "Input/output error");
      }
      if (external_data_ && host != offset) {
        event_.data_file_mismatch(cluster_host, offset - in_cluster, index, event_clock_);
        return make_error(Errc::io, "Input/output error");
      }
    }
    // count_contiguous_subclusters
    uint64_t count = 0;
    Type expected = type;
    uint64_t expected_offset = entry & kOffsetMask;
    bool check_offset = type == Type::normal || type == Type::zero_alloc || type == Type::unallocated_alloc;
    for (uint64_t i = 0; i < clusters; i++) {
      uint32_t first = i == 0 ? sc : 0;
      const uint8_t* ei = table + (table_index + i) * l2_entry_bytes_;
      uint64_t entry_i = be64(ei);
      uint64_t bitmap_i = l2_entry_bytes_ == 16 ? be64(ei + 8) : 0;
      Type t;
      int32_t n = range_type(entry_i, bitmap_i, first, &t);
      if (n < 0) {
        // qemu names the invalid entry, which may be a later one than asked for.
        event_.invalid_entry(l2_offset, index + static_cast<uint32_t>(i), event_clock_);
        return make_error(Errc::io, "Input/output error");
      }
      if (i == 0) {
        if (t == Type::compressed) {
          count = static_cast<uint64_t>(n);
          break;
        }
      } else if (t != expected) {
        break;
      } else if (check_offset) {
        expected_offset += cluster_size();
        if (expected_offset != (entry_i & kOffsetMask)) break;
      }
      count += static_cast<uint64_t>(n);
      if (first + static_cast<uint32_t>(n) < subclusters_) break;
    }
    available = (count + sc) << subcluster_bits_;
  }
  if (available > needed) available = needed;

  Status s;
  s.length = available - in_cluster;
  if ((type == Type::normal || type == Type::zero_alloc || type == Type::unallocated_alloc) && !encrypted_) {
    s.flags |= kOffsetValid;
    s.offset = host;
    s.file = data_number_;
    s.device = data_;
  }
  if (type == Type::zero_plain || type == Type::zero_alloc) {
    s.flags |= kZero;
  } else if (type != Type::unallocated_plain && type != Type::unallocated_alloc) {
    s.flags |= kData;
  }
  if (metadata_preallocation_ && (s.flags & kData) && type == Type::normal) s.flags |= kRecurse;
  if (type == Type::compressed) s.flags |= kCompressed;
  return s;
}

Result<uint64_t> Qcow2Layer::l2_entry_at(uint64_t offset) {
  uint64_t l1_index = offset >> (cluster_bits_ + (cluster_bits_ - (l2_entry_bytes_ == 16 ? 4 : 3)));
  uint64_t l2_offset = l1_index < l1_size_ ? be64(l1_ + l1_index * 8) & kOffsetMask : 0;
  if (l2_offset == 0) return uint64_t{0};
  if (l2_offset & (cluster_size() - 1)) return make_error(Errc::io, "Input/output error");
  INSTAR_TRY_ASSIGN(table, l2_table(l2_offset));
  uint64_t l2_index = (offset >> cluster_bits_) & (l2_entries_ - 1);
  return be64(table + l2_index * l2_entry_bytes_);
}

namespace {

// Compressed clusters read together when they follow one another in the file (qemu writes them so):
// one read instead of one per cluster (a VM exit each in the kvm sandbox), of exactly the bytes that
// reading those clusters in turn reads. Reads are never widened beyond that: bytes qemu would not read
// would warm the host's page cache, which changes what SEEK_DATA reports for fallocated ranges on ext4.
constexpr uint64_t kCompressedRunBytes = 256 * 1024;

}  // namespace

// A compressed cluster's place in the file: its offset and the bytes qemu reads for it.
Result<Qcow2Layer::CompressedSpan> Qcow2Layer::compressed_span(uint64_t entry) const {
  // The descriptor: offset in the low bits, (sectors - 1) above them.
  uint32_t csize_shift = 62 - (cluster_bits_ - 8);
  uint64_t csize_mask = (uint64_t{1} << (cluster_bits_ - 8)) - 1;
  uint64_t coffset = entry & ((uint64_t{1} << csize_shift) - 1);
  uint64_t sectors = ((entry >> csize_shift) & csize_mask) + 1;
  uint64_t csize = sectors * 512 - (coffset & 511);
  if (csize > cluster_size() + 512) return make_error(Errc::io, "Input/output error");
  return CompressedSpan{coffset, csize};
}

Result<void> Qcow2Layer::read_compressed(uint64_t offset, uint8_t* out, size_t length) {
  INSTAR_TRY_ASSIGN(entry, l2_entry_at(offset));
  if (!(entry & kCompressedFlag)) return make_error(Errc::io, "Input/output error");
  uint64_t cs = cluster_size();
  if (decompressed_ == nullptr) {
    uint64_t run = cs + 512 > kCompressedRunBytes ? cs + 512 : kCompressedRunBytes;
    INSTAR_TRY_ASSIGN(in, scratch_->allocate(static_cast<size_t>(run)));
    INSTAR_TRY_ASSIGN(dec, scratch_->allocate(static_cast<size_t>(cs)));
    compressed_in_ = in;
    compressed_capacity_ = run;
    decompressed_ = dec;
  }
  if (decompressed_entry_ != entry) {
    decompressed_entry_ = 0;
    INSTAR_TRY_ASSIGN(span, compressed_span(entry));
    bool held = run_length_ != 0 && span.offset >= run_offset_ && span.offset - run_offset_ <= run_length_ &&
                span.length <= run_length_ - (span.offset - run_offset_);
    if (!held) {
      // This cluster and those after it in the same L2 table whose compressed bytes follow on.
      uint64_t end = span.offset + span.length;
      uint64_t next = (offset & ~(cs - 1)) + cs;
      while (next < size && ((next >> cluster_bits_) & (l2_entries_ - 1)) != 0) {
        auto e = l2_entry_at(next);
        if (e.is_error() || !(e.value() & kCompressedFlag)) break;
        auto s = compressed_span(e.value());
        // qemu packs compressed clusters byte after byte, so the next one starts inside the last one's
        // final sector (the descriptor counts whole sectors).
        if (s.is_error() || s.value().offset < span.offset || s.value().offset > end) break;
        uint64_t next_end = s.value().offset + s.value().length;
        if (next_end - span.offset > compressed_capacity_) break;
        if (next_end > end) end = next_end;
        next += cs;
      }
      run_length_ = 0;
      INSTAR_TRY(read_zero_padded(*image_, span.offset, compressed_in_, static_cast<size_t>(end - span.offset)));
      run_offset_ = span.offset;
      run_length_ = end - span.offset;
    }
    ByteSpan in(compressed_in_ + (span.offset - run_offset_), static_cast<size_t>(span.length));
    Result<void> done = ok();
    if (compression_type_ == qcow2::kCompressionZstd) {
      done = compress::zstd_decompress_cluster(in, decompressed_, static_cast<size_t>(cs));
    } else {
      done = compress::inflate_cluster(in, decompressed_, static_cast<size_t>(cs));
    }
    if (done.is_error()) return make_error(Errc::io, "Input/output error");
    decompressed_entry_ = entry;
  }
  uint64_t in_cluster = offset & (cs - 1);
  if (in_cluster + length > cs) return make_error(Errc::io, "Input/output error");
  __builtin_memcpy(out, decompressed_ + in_cluster, length);
  return ok();
}

Result<void> Qcow2Layer::read_allocated(uint64_t offset, uint8_t* out, size_t length, const Status& status) {
  if (status.flags & kCompressed) return read_compressed(offset, out, length);
  if (status.flags & kZero) {
    for (size_t i = 0; i < length; i++) out[i] = 0;
    return ok();
  }
  if ((status.flags & kData) && (status.flags & kOffsetValid)) {
    INSTAR_TRY(read_zero_padded(*data_, status.offset, out, length));
    return ok();
  }
  return make_error(Errc::io, "Input/output error");
}

}  // namespace instar::image
