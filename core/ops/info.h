// info.h: the info operation (what `qemu-img info` reports about one image).
#pragma once

#include "core/base/arena.h"
#include "core/ops/execute.h"
#include "core/ops/info_qcow2_metadata.h"
#include "core/record/record.h"

namespace instar {

void run_info(const Request& request, const Devices& devices, Arena& scratch, RecordWriter& out);

// Writes an error into the record (message, details, code).
void write_error(RecordWriter& out, const Error& error);

namespace qcow2 {
// qcow2's part of info: opens the image as qemu's qcow2 driver does and reports it.
Result<void> info(BlockDevice& image, const QemuRules& rules, Arena& scratch, RecordWriter& out);
}  // namespace qcow2

}  // namespace instar
