// hex.h: hex strings of case files <-> bytes.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace instar::diff {

// Pairs of hex digits (either case), nothing else; nullopt if malformed.
std::optional<std::string> decode_hex(std::string_view hex);
std::string encode_hex(std::string_view bytes);

}  // namespace instar::diff
