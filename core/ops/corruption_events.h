// corruption_events.h: recording the corruption events of the chains an
// operation reads (core/image/corruption_event.h) whichever way it ends.
#pragma once

#include "core/image/chain.h"
#include "core/image/corruption_event.h"
#include "core/record/record.h"

namespace instar {

// Declared after the chains it watches and before they open (it gives them
// its clock, and must go before them): when it goes out of scope it records
// every qcow2 layer's event in the order they happened, as qemu prints them.
class CorruptionEventsOnExit {
 public:
  CorruptionEventsOnExit(RecordWriter& out, image::Chain& first, image::Chain* second = nullptr);
  ~CorruptionEventsOnExit();
  CorruptionEventsOnExit(const CorruptionEventsOnExit&) = delete;
  CorruptionEventsOnExit& operator=(const CorruptionEventsOnExit&) = delete;

 private:
  RecordWriter& out_;
  const image::Chain& first_;
  const image::Chain* second_;
  image::EventClock clock_;
};

}  // namespace instar
