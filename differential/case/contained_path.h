// contained_path.h: the rule that keeps a case's file steps inside its private directory.
#pragma once

#include <string>
#include <string_view>

namespace instar::diff {

// Empty if path names something strictly inside the case directory (relative,
// no ".." component, not empty); otherwise why it does not.
std::string why_not_contained(std::string_view path);

}  // namespace instar::diff
