// operation_registry.cc: every qemu-img operation instar implements, with a generator of its arguments.
#include "differential/generate/operation_registry.h"

#include "differential/generate/operation_arguments.h"

namespace instar::diff {

const std::vector<OperationKind>& operation_registry() {
  static const std::vector<OperationKind> registry = {
      {"info", false, info_arguments},
      {"check", false, check_arguments},
      {"check", true, check_repair_arguments},  // -r: repairs in place
      {"measure", false, measure_arguments},
      {"map", false, map_arguments},
      {"compare", false, compare_arguments},
      {"convert", true, convert_arguments},
      {"dd", true, dd_arguments},
  };
  return registry;
}

std::string pick_target(Rng& rng, const ImageSet& images) {
  uint64_t roll = rng.below(100);
  if (roll < 75) return images.top;
  if (roll < 88) return rng.pick(images.images);
  if (roll < 92 && !images.others.empty()) return rng.pick(images.others);
  if (roll < 97) return "missing.qcow2";
  return ".";
}

}  // namespace instar::diff
