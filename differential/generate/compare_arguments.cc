// compare_arguments.cc: random arguments for `qemu-img compare` — two images
// from the generated set (the top against a backing file, a data file or a
// compression source, or itself), right and wrong -f/-F, -s, -q, -p, cache modes
// and error paths.
#include "differential/generate/operation_arguments.h"

#include <utility>

namespace instar::diff {

namespace {

std::string format_of(const std::string& name) {
  size_t dot = name.rfind('.');
  return dot == std::string::npos ? "raw" : name.substr(dot + 1);
}

// The second image: often another file of the set, sometimes the first again.
std::string second_target(Rng& rng, const ImageSet& images, const std::string& first) {
  uint64_t roll = rng.below(100);
  if (roll < 20) return first;
  if (roll < 55 && !images.others.empty()) return rng.pick(images.others);
  if (roll < 90) return rng.pick(images.images);
  return pick_target(rng, images);
}

}  // namespace

std::vector<std::string> compare_arguments(Rng& rng, const ImageSet& images) {
  std::vector<std::string> args;
  std::string first = pick_target(rng, images);
  std::string second = second_target(rng, images, first);
  if (rng.chance(50)) std::swap(first, second);
  if (rng.chance(40)) args.push_back("-s");
  if (rng.chance(15)) args.push_back("-q");
  if (rng.chance(25)) args.push_back("-p");  // progress lines on stdout, byte for byte
  for (auto [flag, name] : {std::pair<const char*, const std::string*>{"-f", &first}, {"-F", &second}}) {
    if (!rng.chance(30)) continue;
    std::string right = format_of(*name);
    args.push_back(flag);
    args.push_back(rng.pick(std::vector<std::string>{right, right, right, "raw", "qcow2", "bogus"}));
  }
  if (rng.chance(10)) {
    args.push_back("-T");
    args.push_back(rng.pick(std::vector<std::string>{"writeback", "none", "unsafe", "directsync", "bogus", ""}));
  }
  if (rng.chance(8)) args.push_back(rng.chance(50) ? "-U" : "--force-share");
  if (rng.chance(3)) args.push_back(rng.pick(std::vector<std::string>{"--bogus", "-Z", "-f", "--image-opts"}));
  if (!rng.chance(3)) args.push_back(first);
  if (!rng.chance(3)) args.push_back(second);
  if (rng.chance(2)) args.push_back(first);  // one file too many
  return args;
}

}  // namespace instar::diff
