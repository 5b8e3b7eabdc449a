// corruption_events.cc: recording the chains' corruption events.
#include "core/ops/corruption_events.h"

#include "core/ops/info_record.h"

namespace instar {

void record_corruption_events(const image::Chain& chain, RecordWriter& out) {
  for (size_t i = 0; i < chain.length && i < image::kMaxChainLength; i++) {
    if (chain.format_of[i] != ImageFormat::qcow2 || chain.layers[i] != &chain.qcow2[i]) continue;
    const image::CorruptionEvent& event = chain.qcow2[i].corruption_event();
    if (event.signaled()) out.put_bytes(kTagCorruptionEvent, event.line());
  }
}

CorruptionEventsOnExit::~CorruptionEventsOnExit() {
  record_corruption_events(first_, out_);
  if (second_ != nullptr) record_corruption_events(*second_, out_);
}

}  // namespace instar
