// compare.h: the compare operation (what `qemu-img compare` reports for two
// images, each with its backing chain).
#pragma once

#include "core/base/arena.h"
#include "core/ops/execute.h"
#include "core/record/record.h"

namespace instar {

void run_compare(const Request& request, const Devices& devices, Arena& scratch, RecordWriter& out);

}  // namespace instar
