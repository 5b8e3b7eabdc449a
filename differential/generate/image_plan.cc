// image_plan.cc: random images for a generated case — creation options, backing chains, data patterns.
#include "differential/generate/image_plan.h"

#include <cinttypes>
#include <cstdio>

namespace instar::diff {
namespace {

constexpr uint64_t KiB = 1024, MiB = KiB * KiB, GiB = MiB * KiB, TiB = GiB * KiB;

SetupStep run(std::vector<std::string> argv) { return SetupStep{RunStep{std::move(argv)}, false, 1}; }

std::string hex_byte(uint64_t v) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%02" PRIx64, v & 0xff);
  return buf;
}

// Virtual sizes from empty to TiB scale; every image is sparse, so none of them costs disk space.
uint64_t pick_size(Rng& rng, uint64_t cluster) {
  static const std::vector<uint64_t> sizes = {
      0, 512, 1000, 64 * KiB, MiB, MiB + 512, 64 * MiB, GiB, 2 * GiB + 7 * 512, 100 * GiB, TiB, 4 * TiB};
  uint64_t size = rng.pick(sizes);
  // The L1 table grows with size / (cluster * cluster / 8): keep it under a few MiB.
  uint64_t limit = cluster <= 512 ? GiB : cluster <= 4 * KiB ? 64 * GiB : 16 * TiB;
  return size > limit ? limit : size;
}

struct Qcow2Options {
  uint64_t cluster = 64 * KiB;
  std::string option_string;  // for -o; empty: none
  bool v3 = true;
};

Qcow2Options pick_qcow2_options(Rng& rng, uint64_t* size, bool top, std::string* data_file) {
  Qcow2Options q;
  std::vector<std::string> o;
  static const std::vector<uint64_t> clusters = {512, 4 * KiB, 64 * KiB, 64 * KiB, 2 * MiB};
  if (rng.chance(50)) {
    q.cluster = rng.pick(clusters);
    o.push_back("cluster_size=" + std::to_string(q.cluster));
  }
  *size = pick_size(rng, q.cluster);
  if (rng.chance(20)) {
    q.v3 = false;
    o.push_back("compat=0.10");
  } else if (rng.chance(20)) {
    o.push_back("compat=1.1");
  }
  if (q.v3) {
    if (q.cluster >= 16 * KiB && rng.chance(15)) o.push_back("extended_l2=on");
    if (rng.chance(20)) o.push_back("refcount_bits=" + std::to_string(1u << rng.below(7)));
    if (rng.chance(20)) o.push_back(std::string("compression_type=") + (rng.chance(50) ? "zstd" : "zlib"));
    if (rng.chance(15)) o.push_back("lazy_refcounts=on");
    // data_file_raw maps every cluster: its L2 tables grow with the virtual size.
    if (top && rng.chance(10) && *size <= GiB) {
      *data_file = "img.data";
      o.push_back("data_file=img.data");
      if (rng.chance(50)) o.push_back("data_file_raw=on");
    }
  }
  // Preallocation only where the result stays small.
  if (rng.chance(15)) {
    if (*size <= 16 * MiB && data_file->empty()) {
      o.push_back(std::string("preallocation=") +
                  rng.pick(std::vector<std::string>{"metadata", "falloc", "full"}));
    } else if (*size <= GiB && q.cluster >= 4 * KiB) {
      o.push_back("preallocation=metadata");
    }
  }
  for (size_t i = 0; i < o.size(); i++) q.option_string += (i ? "," : "") + o[i];
  return q;
}

// A few data extents written with qemu-io: patterns, zeroes, compressed clusters, islands far apart.
void plan_data(Rng& rng, const std::string& image, const std::string& format, uint64_t size, uint64_t cluster,
               std::vector<SetupStep>& setup) {
  if (size < 512) return;
  unsigned writes = static_cast<unsigned>(rng.below(cluster >= 2 * MiB ? 3 : 5));
  for (unsigned i = 0; i < writes; i++) {
    uint64_t sectors = size / 512;
    uint64_t offset = rng.chance(40) ? 0 : rng.below(sectors) * 512;
    uint64_t length = std::min<uint64_t>(size - offset, 512 * rng.between(1, 128));
    if (length == 0) continue;
    std::string what;
    uint64_t kind = rng.below(10);
    if (kind < 6) {
      what = "write -P " + hex_byte(rng.next());
    } else if (kind < 8) {
      what = "write -z";
    } else if (format == "qcow2" && kind == 8) {
      // A compressed write needs a whole, cluster-aligned cluster.
      offset = offset / cluster * cluster;
      if (offset + cluster > size) continue;
      length = cluster;
      what = "write -c -P " + hex_byte(rng.next());
    } else {
      what = "write -P " + hex_byte(rng.next());
    }
    setup.push_back(run({"qemu-io", "-f", format, "-c",
                         what + " " + std::to_string(offset) + " " + std::to_string(length), image}));
  }
}

// A raw file with random and repeated bytes and perhaps an MBR, written directly (no qemu-io needed).
void plan_raw_bytes(Rng& rng, const std::string& file, uint64_t size, std::vector<SetupStep>& setup) {
  if (size < 512) return;
  if (rng.chance(30)) {
    // An MBR with one Linux partition from sector 2048.
    std::string mbr(66, '\0');
    mbr[4] = '\x83';
    mbr[8] = '\x00';
    mbr[9] = '\x08';
    mbr[12] = '\x00';
    mbr[13] = '\x08';
    mbr[64] = '\x55';
    mbr[65] = '\xaa';
    setup.push_back(SetupStep{PatchStep{file, 446, mbr}, false, 1});
  }
  unsigned islands = static_cast<unsigned>(rng.below(3));
  for (unsigned i = 0; i < islands; i++) {
    std::string bytes(static_cast<size_t>(rng.between(1, 8) * 512), '\0');
    bool random = rng.chance(50);
    char repeated = static_cast<char>(rng.next());
    for (char& b : bytes) b = random ? static_cast<char>(rng.next()) : repeated;
    uint64_t offset = rng.below(size / 512) * 512;
    if (offset + bytes.size() > size) bytes.resize(static_cast<size_t>(size - offset));
    if (!bytes.empty()) setup.push_back(SetupStep{PatchStep{file, offset, bytes}, false, 1});
  }
}

// Random bytes over the first sectors of an image: damaged headers and error paths.
void plan_damage(Rng& rng, const std::string& file, std::vector<SetupStep>& setup) {
  std::string bytes(static_cast<size_t>(rng.between(1, 4)), '\0');
  for (char& b : bytes) b = static_cast<char>(rng.next());
  setup.push_back(SetupStep{PatchStep{file, rng.below(112), bytes}, true, 1});
}

}  // namespace

ImageSet plan_images(Rng& rng, std::vector<SetupStep>& setup) {
  ImageSet set;
  unsigned depth = static_cast<unsigned>(rng.below(10) < 6 ? 0 : rng.between(1, 3));
  std::string below, below_format;
  for (unsigned level = 0; level <= depth; level++) {
    bool top = level == depth;
    // Only the bottom of a chain may be raw: raw has no backing file.
    std::string format = (level == 0 && rng.chance(35)) ? "raw" : "qcow2";
    std::string name = top ? "img." + format : "base" + std::to_string(level) + "." + format;
    if (format == "raw") {
      uint64_t size = pick_size(rng, 64 * KiB);
      setup.push_back(run({"qemu-img", "create", "-q", "-f", "raw", name, std::to_string(size)}));
      plan_raw_bytes(rng, name, size, setup);
      set.images.push_back(name);
      below = name;
      below_format = format;
      continue;
    }
    uint64_t size = 0;
    std::string data_file;
    Qcow2Options q = pick_qcow2_options(rng, &size, top, &data_file);
    if (!data_file.empty()) set.others.push_back(data_file);
    bool compressed = top && below.empty() && data_file.empty() && rng.chance(15);
    std::string target = compressed ? "src.raw" : name;
    std::vector<std::string> argv = {"qemu-img", "create", "-q", "-f", compressed ? "raw" : "qcow2"};
    if (!compressed && !q.option_string.empty()) argv.insert(argv.end(), {"-o", q.option_string});
    if (!below.empty()) argv.insert(argv.end(), {"-b", below, "-F", below_format});
    argv.push_back(target);
    // An overlay usually inherits its size from its backing file.
    if (below.empty() || rng.chance(30)) argv.push_back(std::to_string(size));
    setup.push_back(run(argv));
    if (compressed) {
      // Compressed clusters come from `convert -c` of a raw source with random and repeated bytes.
      plan_raw_bytes(rng, target, size, setup);
      std::vector<std::string> convert = {"qemu-img", "convert", "-q", "-c", "-O", "qcow2"};
      if (!q.option_string.empty() && q.option_string.find("preallocation") == std::string::npos &&
          q.option_string.find("data_file") == std::string::npos)
        convert.insert(convert.end(), {"-o", q.option_string});
      convert.insert(convert.end(), {target, name});
      setup.push_back(run(convert));
      set.others.push_back(target);
    } else {
      plan_data(rng, name, "qcow2", size, q.cluster, setup);
    }
    set.images.push_back(name);
    below = name;
    below_format = format;
  }
  set.top = set.images.back();
  // An internal snapshot (measure -l), then a write so that it differs from the active image.
  bool top_qcow2 = set.top.size() > 6 && set.top.compare(set.top.size() - 6, 6, ".qcow2") == 0;
  if (top_qcow2 && set.others.empty() && rng.chance(10)) {
    setup.push_back(run({"qemu-img", "snapshot", "-c", "snap1", set.top}));
    setup.push_back(run({"qemu-io", "-c", "write -P 0x5a 0 512", set.top}));
    set.snapshots.push_back("snap1");
  }
  if (rng.chance(8)) plan_damage(rng, set.top, setup);
  return set;
}

}  // namespace instar::diff
