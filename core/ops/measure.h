// measure.h: the measure operation's source side (what `qemu-img measure FILE`
// reads from the source image: its length, data extents and bitmaps).
#pragma once

#include "core/base/arena.h"
#include "core/ops/execute.h"
#include "core/record/record.h"

namespace instar {

void run_measure(const Request& request, const Devices& devices, Arena& scratch, RecordWriter& out);

}  // namespace instar
