// convert_record.h: the record of `convert`: what was written, for the CLI's summary.
#pragma once

#include <stdint.h>

namespace instar {

enum ConvertTag : uint16_t {
  kConvertVirtualSize = 900,
  kConvertBytesWritten = 901,  // data bytes written (zeroes skipped or punched are not counted)
  kConvertFailedOffset = 902,  // with an error: the start of the chunk whose read failed, else 0
  kConvertStatusFailedOffset = 903,  // instead, when a block status query failed: the offset it asked about
};

}  // namespace instar
