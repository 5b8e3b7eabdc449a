// chain_open.cc: the chain open every reading operation starts with.
#include "core/ops/chain_open.h"

#include "core/ops/info.h"
#include "core/ops/info_record.h"

namespace instar {

bool open_chain_or_report(const Request& request, const Devices& devices, Arena& scratch, image::Chain& chain,
                          RecordWriter& out) {
  auto opened = image::open_chain(request, devices, scratch, chain);
  if (opened.is_error()) {
    write_error(out, opened.error());
    if (chain.length > 1) out.put_u64(kTagErrorBackingDepth, chain.length - 1);
    return false;
  }
  if (!opened.value().complete) {
    const image::NeededDevice& need = opened.value().needed;
    out.begin(kTagNeedDevice);
    out.put_u64(kTagNeedRole, static_cast<uint64_t>(need.role));
    out.put_u64(kTagNeedParent, need.parent);
    out.put_bytes(kTagNeedName, need.name);
    if (need.format.size > 0) out.put_bytes(kTagNeedFormat, need.format);
    out.end(kTagNeedDevice);
    return false;
  }
  for (size_t i = 0; i < chain.length; i++) {
    out.begin(kTagLayer);
    out.put_u64(kTagLayerDevice, chain.device_of[i]);
    out.put_string(kTagLayerFormat, image_format_name(chain.format_of[i]));
    out.end(kTagLayer);
  }
  return true;
}

}  // namespace instar
