// check.h: the check operation (what `qemu-img check` finds in one image, read-only).
#pragma once

#include "core/base/arena.h"
#include "core/ops/execute.h"
#include "core/record/record.h"

namespace instar {

void run_check(const Request& request, const Devices& devices, Arena& scratch, RecordWriter& out);

}  // namespace instar
