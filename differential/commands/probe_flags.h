// probe_flags.h: --reference, --subject, --profile and --timeout, shared by run, minimise and promote.
#pragma once

#include <string>

#include "differential/campaign/probe.h"
#include "differential/commands/flag_parser.h"

namespace instar::diff {

// "" or a usage error. Defaults: /usr/bin/qemu-img, instar beside this executable, the reference's profile.
std::string probe_config_from(const Flags& f, ProbeConfig& config, const std::string& default_reference = "",
                              const std::string& default_subject = "");

}  // namespace instar::diff
