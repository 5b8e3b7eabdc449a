// convert.h: the convert operation for raw output: read the source chain and
// write its guest-visible bytes to the output device, leaving holes where
// qemu-img leaves them.
#pragma once

#include "core/base/arena.h"
#include "core/ops/execute.h"
#include "core/record/record.h"

namespace instar {

void run_convert(const Request& request, const Devices& devices, Arena& scratch, RecordWriter& out);

}  // namespace instar
