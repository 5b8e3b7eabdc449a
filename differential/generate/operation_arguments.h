// operation_arguments.h: the argument generators the operation registry lists, one file per operation.
#pragma once

#include <string>
#include <vector>

#include "differential/generate/operation_registry.h"

namespace instar::diff {

std::vector<std::string> info_arguments(Rng& rng, const ImageSet& images);
std::vector<std::string> check_arguments(Rng& rng, const ImageSet& images);
std::vector<std::string> check_repair_arguments(Rng& rng, const ImageSet& images);
std::vector<std::string> measure_arguments(Rng& rng, const ImageSet& images);
std::vector<std::string> map_arguments(Rng& rng, const ImageSet& images);
std::vector<std::string> compare_arguments(Rng& rng, const ImageSet& images);
std::vector<std::string> convert_arguments(Rng& rng, const ImageSet& images);
std::vector<std::string> dd_arguments(Rng& rng, const ImageSet& images);

}  // namespace instar::diff
