// map.h: the map operation (what `qemu-img map` reports for a window of the disk).
#pragma once

#include "core/base/arena.h"
#include "core/ops/execute.h"
#include "core/record/record.h"

namespace instar {

void run_map(const Request& request, const Devices& devices, Arena& scratch, RecordWriter& out);

namespace image {
struct Chain;
}
// Opens the chain and records its layers; or records the device the host must
// attach (or the error) and returns false.
bool open_chain_or_report(const Request& request, const Devices& devices, Arena& scratch, image::Chain& chain,
                          RecordWriter& out);

}  // namespace instar
