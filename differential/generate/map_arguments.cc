// map_arguments.cc: random arguments for `qemu-img map` — output formats, right and wrong -f, windows
// (--start-offset / --max-length) of every shape, and error paths.
#include "differential/generate/operation_arguments.h"

namespace instar::diff {

namespace {

// A window bound: aligned, unaligned, huge, suffixed, hexadecimal, fractional, or not a number at all.
// The two qemu-img versions word the invalid ones differently (cvtnum's messages changed in 8.x).
std::string random_offset(Rng& rng) {
  static const std::vector<std::string> kForms = {
      "0",     "1",    "511",  "512",  "4k",    "64k",   "65537", "1M",  "1m",    "2M",  "1.5k",  "0.5M",
      "0x10000", "0x1.8p10", "512B", "1G",  "1T",   "1E",   "7E",    "8E",    "9E",  "9223372036854775807",
      "abc",   "",     "-1",   "1x",   "1.5",   " 64k",  "64 k",  "1e3", "0x",    "k"};
  uint64_t roll = rng.below(100);
  if (roll < 35) return rng.pick(kForms);
  // Near the data: multiples of common cluster sizes, and a byte either side.
  uint64_t unit = uint64_t{512} << rng.below(13);
  uint64_t value = unit * rng.below(64);
  if (roll < 60) return std::to_string(value);
  if (roll < 75) return std::to_string(value + rng.pick(std::vector<uint64_t>{1, 511, 4095}));
  if (roll < 85) return std::to_string(rng.below(uint64_t{1} << rng.between(1, 62)));
  // Suffixed forms of the same magnitudes.
  return std::to_string(rng.below(4096)) + rng.pick(std::vector<std::string>{"k", "K", "M", "G", "T", "P"});
}

}  // namespace

std::vector<std::string> map_arguments(Rng& rng, const ImageSet& images) {
  std::vector<std::string> args;
  if (rng.chance(55)) args.push_back(rng.pick(std::vector<std::string>{"--output=json", "--output=human"}));
  if (rng.chance(4))
    args.push_back(rng.pick(std::vector<std::string>{"--output=xml", "--output", "--output=", "--out=json"}));
  if (rng.chance(25)) {
    std::string format = images.top.substr(images.top.rfind('.') + 1);
    // The right format, the wrong one, or one that does not exist.
    args.push_back(rng.chance(85) ? "-f" : "--format");
    args.push_back(rng.pick(std::vector<std::string>{format, format, format, "raw", "qcow2", "bogus"}));
  }
  if (rng.chance(35)) {
    if (rng.chance(80)) {
      args.insert(args.end(), {"--start-offset", random_offset(rng)});
    } else {
      args.push_back("--start-offset=" + random_offset(rng));
    }
  }
  if (rng.chance(35)) {
    if (rng.chance(80)) {
      args.insert(args.end(), {"--max-length", random_offset(rng)});
    } else {
      args.push_back("--max-length=" + random_offset(rng));
    }
  }
  if (rng.chance(12)) args.push_back(rng.chance(50) ? "-U" : "--force-share");
  if (rng.chance(4)) args.push_back(rng.pick(std::vector<std::string>{"--bogus", "-Z", "-q", "--start-offset"}));
  if (!rng.chance(3)) args.push_back(pick_target(rng, images));
  if (rng.chance(3)) args.push_back(pick_target(rng, images));  // one file too many
  return args;
}

}  // namespace instar::diff
