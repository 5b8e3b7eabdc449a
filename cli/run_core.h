// run_core.h: runs a core request over host devices and decodes the record.
// This is the seam the sandbox takes over: today in-process, next in a guest.
#pragma once

#include "cli/record_decoder.h"
#include "core/ops/execute.h"

namespace instar::cli {

Result<DecodedRecord> run_core(const Request& request, const Devices& devices);

}  // namespace instar::cli
