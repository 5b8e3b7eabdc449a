// map.h: the map operation (what `qemu-img map` reports for a window of the disk).
#pragma once

#include "core/base/arena.h"
#include "core/ops/execute.h"
#include "core/record/record.h"

namespace instar {

void run_map(const Request& request, const Devices& devices, Arena& scratch, RecordWriter& out);

}  // namespace instar
