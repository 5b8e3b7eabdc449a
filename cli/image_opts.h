// image_opts.h: what qemu-img says about an --image-opts string that names no
// driver and no file. instar opens no option string (docs/divergences.md#image-opts);
// these shapes fail in qemu-img before any driver is chosen, so they fail the same here.
#pragma once

#include <optional>
#include <string>

namespace instar::cli {

// The error (after qemu-img's "Could not open '<optstr>': ") for an option string
// that is empty or a bare word (no '=' and no ','), or nullopt for any other string.
// qemu reads a bare word as a reference to an existing block node, of which
// qemu-img has none.
std::optional<std::string> image_opts_open_error(const std::string& optstr);

}  // namespace instar::cli
