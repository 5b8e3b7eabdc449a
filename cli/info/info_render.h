// info_render.h: ImageReport → qemu-img info's human and JSON output.
#pragma once

#include <string>
#include <vector>

#include "cli/info/image_report.h"
#include "cli/profile.h"
#include "cli/render/qobject.h"

namespace instar::cli {

// The ImageInfo QObject that `--output=json` prints (BlockGraphInfo in 8.0+).
QObject image_info_qobject(const ImageReport& report, const Profile& profile);

// bdrv_image_info_dump() plus, in 8.0+, the child nodes.
std::string render_info_human(const ImageReport& report, const Profile& profile);

// One image or a --backing-chain list, with the trailing newline qemu prints.
std::string render_info_json(const std::vector<ImageReport>& chain, bool as_list, const Profile& profile);
std::string render_info_human_chain(const std::vector<ImageReport>& chain, const Profile& profile);

}  // namespace instar::cli
