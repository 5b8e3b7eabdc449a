// image_opts.cc: the --image-opts strings that fail before a driver is chosen.
#include "cli/image_opts.h"

namespace instar::cli {

std::optional<std::string> image_opts_open_error(const std::string& optstr) {
  if (optstr.empty()) return std::string("Must specify either driver or file");
  if (optstr.find_first_of("=,") != std::string::npos) return std::nullopt;
  return "Cannot find device='" + optstr + "' nor node-name='" + optstr + "'";
}

}  // namespace instar::cli
