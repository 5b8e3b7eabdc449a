// check_arguments.cc: random arguments for `qemu-img check` — valid options and error paths alike.
#include "differential/generate/operation_arguments.h"

namespace instar::diff {

std::vector<std::string> check_arguments(Rng& rng, const ImageSet& images) {
  std::vector<std::string> args;
  if (rng.chance(50)) args.push_back(rng.pick(std::vector<std::string>{"--output=json", "--output=human"}));
  if (rng.chance(5)) args.push_back(rng.pick(std::vector<std::string>{"--output=xml", "--output", "--output="}));
  if (rng.chance(25)) {
    std::string format = images.top.substr(images.top.rfind('.') + 1);
    // The right format, the wrong one, or one that does not exist.
    args.push_back("-f");
    args.push_back(rng.pick(std::vector<std::string>{format, format, "raw", "qcow2", "vmdk", "bogus"}));
  }
  if (rng.chance(20)) args.push_back("-q");
  if (rng.chance(15)) args.push_back(rng.chance(50) ? "-U" : "--force-share");
  if (rng.chance(8)) args.insert(args.end(), {"-T", rng.pick(std::vector<std::string>{"none", "writeback", "x"})});
  // -r changes the image: only check_repair_arguments (registered as writing) passes a valid mode.
  if (rng.chance(4)) args.insert(args.end(), {"-r", rng.pick(std::vector<std::string>{"bogus", "", "LEAKS"})});
  if (rng.chance(4)) args.push_back(rng.pick(std::vector<std::string>{"--bogus", "-Z", "--object", "--image", "--image-opts"}));
  if (!rng.chance(3)) args.push_back(pick_target(rng, images));
  if (rng.chance(3)) args.push_back(pick_target(rng, images));  // one file too many
  return args;
}

// `check -r leaks|all`, registered as an operation that writes: the option matrix around a repair
// (output format, quiet, force-share, format) on the generated images, which qemu-img repairs in place.
std::vector<std::string> check_repair_arguments(Rng& rng, const ImageSet& images) {
  std::vector<std::string> args;
  std::string mode = rng.pick(std::vector<std::string>{"leaks", "all"});
  switch (rng.below(4)) {
    case 0:
      args.insert(args.end(), {"-r", mode});
      break;
    case 1:
      args.push_back("-r" + mode);
      break;
    case 2:
      args.push_back("--repair=" + mode);
      break;
    default:
      args.insert(args.end(), {"--repair", mode});
      break;
  }
  if (rng.chance(40)) args.push_back(rng.pick(std::vector<std::string>{"--output=json", "--output=human"}));
  if (rng.chance(20)) args.push_back("-q");
  if (rng.chance(10)) args.push_back(rng.chance(50) ? "-U" : "--force-share");
  if (rng.chance(15)) {
    std::string format = images.top.substr(images.top.rfind('.') + 1);
    args.push_back("-f");
    args.push_back(rng.pick(std::vector<std::string>{format, format, "raw", "qcow2"}));
  }
  args.push_back(pick_target(rng, images));
  return args;
}

}  // namespace instar::diff
