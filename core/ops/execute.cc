// execute.cc: dispatches a request to its operation.
#include "core/ops/execute.h"

#include "core/ops/check.h"
#include "core/ops/compare.h"
#include "core/ops/convert.h"
#include "core/ops/dd.h"
#include "core/ops/info.h"
#include "core/ops/map.h"
#include "core/ops/measure.h"

namespace instar {

Result<void> execute(const Request& request, const Devices& devices, Arena& scratch, RecordWriter& out) {
  out.start(static_cast<uint16_t>(request.operation));
  switch (request.operation) {
    case Operation::info:
      run_info(request, devices, scratch, out);
      break;
    case Operation::map:
      run_map(request, devices, scratch, out);
      break;
    case Operation::convert:
      run_convert(request, devices, scratch, out);
      break;
    case Operation::check: run_check(request, devices, scratch, out); break;
    case Operation::measure: run_measure(request, devices, scratch, out); break;
    case Operation::dd: run_dd(request, devices, scratch, out); break;
    case Operation::compare: run_compare(request, devices, scratch, out); break;
    default:
      write_error(out, make_error(Errc::unsupported, "operation not supported"));
      break;
  }
  out.finish();
  if (out.failed()) return make_error(Errc::no_space, "result record too large");
  return ok();
}

}  // namespace instar
