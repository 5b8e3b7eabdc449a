// corruption_events.h: recording the corruption events of the chains an
// operation reads (core/image/corruption_event.h) whichever way it ends.
#pragma once

#include "core/image/chain.h"
#include "core/record/record.h"

namespace instar {

// Declared after the chains it watches (it must go before them): when it goes
// out of scope it records each qcow2 layer's event, first chain first, each
// chain top down. A layer is asked for block status only after the layers
// above it, and qemu signals the event on its first block status call (the
// metadata-preallocation check), so that is the order qemu prints them in.
class CorruptionEventsOnExit {
 public:
  CorruptionEventsOnExit(RecordWriter& out, const image::Chain& first, const image::Chain* second = nullptr)
      : out_(out), first_(first), second_(second) {}
  ~CorruptionEventsOnExit();
  CorruptionEventsOnExit(const CorruptionEventsOnExit&) = delete;
  CorruptionEventsOnExit& operator=(const CorruptionEventsOnExit&) = delete;

 private:
  RecordWriter& out_;
  const image::Chain& first_;
  const image::Chain* second_;
};

// Records the events of `chain`'s qcow2 layers, top down.
void record_corruption_events(const image::Chain& chain, RecordWriter& out);

}  // namespace instar
