// image_plan.h: random images for a generated case — creation options, backing chains, data patterns.
#pragma once

#include <string>
#include <vector>

#include "differential/case/case.h"
#include "differential/generate/rng.h"

namespace instar::diff {

// What the setup made: the files an operation may name. Each image's extension is its format.
struct ImageSet {
  std::string top;                  // the image operations look at first
  std::vector<std::string> images;  // every image, bottom of the chain first, top last
  std::vector<std::string> others;  // other files (data files, compression sources)
  std::vector<std::string> snapshots;  // internal snapshots of the top image (snap1: id 1)
};

// Appends setup steps to `setup` that make a random image (and its backing chain).
ImageSet plan_images(Rng& rng, std::vector<SetupStep>& setup);

}  // namespace instar::diff
