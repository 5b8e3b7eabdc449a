// operation_registry.h: every qemu-img operation instar implements, with a generator of its arguments.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "differential/generate/image_plan.h"
#include "differential/generate/rng.h"

namespace instar::diff {

struct OperationKind {
  std::string_view name;  // the qemu-img subcommand
  bool writes;            // whether it may change files
  // Arguments after the subcommand: valid and invalid options, over the images in `images`.
  std::vector<std::string> (*arguments)(Rng& rng, const ImageSet& images);
};

// Adding an operation to the campaign is one entry here (and its arguments function).
const std::vector<OperationKind>& operation_registry();

// A file an operation names: usually the top image, sometimes another image or a missing file.
std::string pick_target(Rng& rng, const ImageSet& images);

}  // namespace instar::diff
