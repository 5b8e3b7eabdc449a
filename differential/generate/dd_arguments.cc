// dd_arguments.cc: random arguments for `qemu-img dd` — operands bs=/count=/skip= around the
// window edges, a raw output written to a fresh name, and the rejection paths around them.
#include "differential/generate/operation_arguments.h"

namespace instar::diff {

namespace {

std::string random_block_size(Rng& rng) {
  static const std::vector<std::string> kForms = {"512", "1",   "1000", "4k",  "64k",        "1M",        "3000",
                                                  "777", "2M",  "1.5k", "0x200", "0",        "2147483648", "x",
                                                  "",    "-1",  "1E",   "010", "2147483647", "64K", "2147483137"};
  return rng.pick(kForms);
}

std::string random_blocks(Rng& rng) {
  static const std::vector<std::string> kForms = {"0",  "1",  "2",   "3",   "10",  "100", "2048", "5000",
                                                  "1k", "010", "0x10", "-1", "-0", "x",   "",     " 5",
                                                  "99999999999999999999", "9223372036854775807", "5b"};
  return rng.pick(kForms);
}

}  // namespace

std::vector<std::string> dd_arguments(Rng& rng, const ImageSet& images) {
  std::vector<std::string> args;
  if (rng.chance(20)) {
    std::string format = images.top.substr(images.top.rfind('.') + 1);
    args.push_back("-f");
    args.push_back(rng.pick(std::vector<std::string>{format, format, "raw", "qcow2", "bogus"}));
  }
  if (rng.chance(15)) {
    args.push_back("-O");
    // raw is what instar writes; qcow2 is the dd-output-format divergence, the rest errors.
    args.push_back(rng.pick(std::vector<std::string>{"raw", "raw", "raw", "qcow2", "bogus", ""}));
  }
  if (rng.chance(8)) args.push_back(rng.chance(50) ? "-U" : "--force-share");
  if (rng.chance(2)) args.push_back(rng.pick(std::vector<std::string>{"--bogus", "-Z", "-q", "--image-opts"}));
  std::vector<std::string> operands;
  if (rng.chance(75)) operands.push_back("bs=" + random_block_size(rng));
  if (rng.chance(60)) operands.push_back("count=" + random_blocks(rng));
  if (rng.chance(50)) operands.push_back("skip=" + random_blocks(rng));
  if (!rng.chance(3)) operands.push_back("if=" + pick_target(rng, images));
  if (!rng.chance(3)) operands.push_back(rng.chance(96) ? "of=out.raw" : "of=missing-dir/out.raw");
  if (rng.chance(3)) operands.push_back(rng.pick(std::vector<std::string>{"foo=1", "bar", "=5", "seek=1", "bs=4k"}));
  // qemu reads the operands in order; shuffle them a little.
  for (size_t i = operands.size(); i > 1; i--) {
    if (rng.chance(30)) std::swap(operands[i - 1], operands[rng.below(i)]);
  }
  args.insert(args.end(), operands.begin(), operands.end());
  return args;
}

}  // namespace instar::diff
