// convert_arguments.cc: random arguments for `qemu-img convert` — raw targets written to a fresh name in
// the work directory, -S / -m / -n / --target-is-zero / -p / cache modes, and the error paths around them.
#include <algorithm>

#include "differential/generate/operation_arguments.h"

namespace instar::diff {

namespace {

// A -S value: valid multiples of 512 up to 16 MiB, and the invalid neighbours qemu-img words differently.
std::string random_sparse_size(Rng& rng) {
  static const std::vector<std::string> kForms = {"0",  "512",  "4k",   "8k",  "64k",   "1M",  "16M",
                                                  "2k", "4096", "1k",   "100", "513",   "32M", "abc",
                                                  "",   "-1",   "1.5k", "17M", "0x1000"};
  return rng.pick(kForms);
}

}  // namespace

std::vector<std::string> convert_arguments(Rng& rng, const ImageSet& images) {
  std::vector<std::string> args;
  // Every run of an operation starts from the restored setup, so out.raw never exists beforehand.
  // With -n the target is src.raw (a compressed image's source, which nothing reads any more) when
  // the set has one, else the missing out.raw (an error path); never a file of the source's chain.
  bool existing = rng.chance(10);
  if (existing) args.push_back("-n");
  if (rng.chance(8) && existing) args.push_back("--target-is-zero");
  if (rng.chance(2)) args.push_back("--target-is-zero");  // without -n: refused
  if (rng.chance(25)) {
    std::string format = images.top.substr(images.top.rfind('.') + 1);
    args.push_back("-f");
    args.push_back(rng.pick(std::vector<std::string>{format, format, format, "raw", "qcow2", "bogus"}));
  }
  if (!rng.chance(5)) {
    args.push_back("-O");
    // raw is what instar writes; the rest are the convert-unsupported-options divergence or errors.
    args.push_back(rng.chance(92) ? "raw" : rng.pick(std::vector<std::string>{"qcow2", "bogus", ""}));
  }
  if (rng.chance(30)) args.insert(args.end(), {"-S", random_sparse_size(rng)});
  if (rng.chance(15))
    args.insert(args.end(), {"-m", rng.pick(std::vector<std::string>{"1", "2", "8", "16", "0", "17", "x"})});
  if (rng.chance(10)) args.push_back("-W");
  if (rng.chance(10)) args.push_back(rng.chance(50) ? "-U" : "--force-share");
  if (rng.chance(10)) args.push_back("-q");
  if (rng.chance(25)) args.push_back("-p");  // progress lines on stdout, byte for byte
  if (rng.chance(6)) {
    // Every mode qemu knows and names it does not: -T is refused before anything opens, -t once the
    // target exists; none, off and directsync open the source chain with O_DIRECT.
    args.insert(args.end(), {rng.chance(50) ? "-t" : "-T",
                             rng.pick(std::vector<std::string>{"writeback", "none", "x", "off", "directsync",
                                                               "unsafe", "writethrough", "", "NONE"})});
  }
  if (rng.chance(3)) args.push_back(rng.pick(std::vector<std::string>{"--bogus", "-Z", "-c", "--image-opts", "--target-image-opts"}));
  if (!rng.chance(3)) args.push_back(pick_target(rng, images));
  if (rng.chance(2)) args.push_back(pick_target(rng, images));  // several sources: refused by instar
  if (rng.chance(4)) return args;                               // no output name
  if (existing) {
    bool has_src = std::find(images.others.begin(), images.others.end(), "src.raw") != images.others.end();
    args.push_back(has_src ? "src.raw" : "out.raw");
  } else {
    args.push_back(rng.chance(95) ? "out.raw" : "missing-dir/out.raw");
  }
  return args;
}

}  // namespace instar::diff
