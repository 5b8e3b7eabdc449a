// chain_open.h: opening the source chain for an operation and recording the
// outcome: the layers, the device the host must attach next, or the error.
#pragma once

#include "core/base/arena.h"
#include "core/image/chain.h"
#include "core/ops/execute.h"
#include "core/record/record.h"

namespace instar {

// Opens the chain and records its layers; or records the device the host must
// attach (or the error) and returns false.
bool open_chain_or_report(const Request& request, const Devices& devices, Arena& scratch, image::Chain& chain,
                          RecordWriter& out);

}  // namespace instar
