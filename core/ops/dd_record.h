// dd_record.h: the record of `dd`: the window it copied, and whether skip= was past the end.
#pragma once

#include <stdint.h>

namespace instar {

enum DdTag : uint16_t {
  kDdWindowStart = 950,   // first input byte copied
  kDdWindowLength = 951,  // bytes copied (the output is this rounded up to 512)
  kDdSkipFailed = 952,    // present: skip= was past the end, qemu's "cannot skip to specified offset"
};

}  // namespace instar
