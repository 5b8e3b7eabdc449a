// write_slot.h: the guest side of the write-behind slot (struct instar_write_slot): one block write
// posted to the host's I/O thread while the guest goes on.
#pragma once

#include "vmm/abi/instar_abi.h"

namespace instar::guest {

// Whether the host serves the slot.
bool write_slot_available();
// Whether a posted write has not been waited for.
bool write_slot_busy();
// Posts `request` (a BLOCK_WRITE's fields); its buffer must stay unchanged until write_slot_wait()
// returns. A write posted before must have been waited for.
void write_slot_post(const instar_hc_block_read& request);
// Waits until the posted write is served and returns its status (INSTAR_HC_OK when none is posted).
int32_t write_slot_wait();

}  // namespace instar::guest
