// recorder.h: run a case's setup and operations with one qemu-img version and record what it did.
#pragma once

#include <chrono>
#include <string>

#include "differential/baseline/baseline_record.h"
#include "differential/runner/profile_tools.h"

namespace instar::diff {

// Setup runs once; the directory it left becomes the record's fixture, and every operation's
// output is recorded with the private directory replaced by the placeholder. Throws
// std::runtime_error when setup fails, a command does not exit, or the fixture is too large.
BaselineRecord record_case(const Case& c, const ProfileTools& tools, const std::string& tool_version,
                           std::chrono::milliseconds timeout);

// The first line of `qemu-img --version`.
std::string qemu_img_version_line(const ProfileTools& tools, std::chrono::milliseconds timeout);

}  // namespace instar::diff
