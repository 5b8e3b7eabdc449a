// corruption_events.h: printing the qcow2 corruption events core recorded
// (kTagCorruptionEvent, core/image/corruption_event.h) on stderr, where qemu's
// driver prints them: before anything the operation prints after its first
// block status call.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "cli/record_decoder.h"

namespace instar::cli {

// The record's events in order, or nullopt when one is not a line qemu's qcow2
// driver prints for a read-only image (printable text with qemu's prefix and suffix).
std::optional<std::vector<std::string>> corruption_events(const RecordField& root);

}  // namespace instar::cli
