// object_option.h: --object, as qemu's user-creatable objects are checked.
#pragma once

#include <optional>
#include <string>

namespace instar::cli {

// Validates an --object definition. instar accepts `secret` objects (it never
// needs their data for read-only operations) and refuses every other type with
// qemu's message. Returns the error text, or nullopt when accepted.
std::optional<std::string> check_object_option(const std::string& definition);

}  // namespace instar::cli
