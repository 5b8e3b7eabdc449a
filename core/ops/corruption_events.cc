// corruption_events.cc: recording the chains' corruption events in order.
#include "core/ops/corruption_events.h"

#include "core/ops/info_record.h"

namespace instar {

namespace {

constexpr size_t kMaxEvents = 2 * image::kMaxChainLength;

size_t collect(const image::Chain& chain, const image::CorruptionEvent** events, size_t count) {
  for (size_t i = 0; i < chain.length && i < image::kMaxChainLength && count < kMaxEvents; i++) {
    if (chain.format_of[i] != ImageFormat::qcow2 || chain.layers[i] != &chain.qcow2[i]) continue;
    const image::CorruptionEvent& event = chain.qcow2[i].corruption_event();
    if (event.signaled()) events[count++] = &event;
  }
  return count;
}

}  // namespace

CorruptionEventsOnExit::CorruptionEventsOnExit(RecordWriter& out, image::Chain& first, image::Chain* second)
    : out_(out), first_(first), second_(second) {
  first.event_clock = &clock_;
  if (second != nullptr) second->event_clock = &clock_;
}

CorruptionEventsOnExit::~CorruptionEventsOnExit() {
  const image::CorruptionEvent* events[kMaxEvents] = {};
  size_t count = collect(first_, events, 0);
  if (second_ != nullptr) count = collect(*second_, events, count);
  // At most 34 events, numbered apart: an insertion sort by sequence.
  for (size_t i = 1; i < count; i++)
    for (size_t j = i; j > 0 && events[j - 1]->sequence() > events[j]->sequence(); j--) {
      const image::CorruptionEvent* t = events[j];
      events[j] = events[j - 1];
      events[j - 1] = t;
    }
  for (size_t i = 0; i < count; i++) out_.put_bytes(kTagCorruptionEvent, events[i]->line());
}

}  // namespace instar
