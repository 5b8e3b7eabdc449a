// measure_arguments.cc: random arguments for `qemu-img measure` — --size and
// source mode (the source may be a backing chain or have a data file, from the
// image plan; -l names an internal snapshot), target formats and creation
// options, bad values sometimes.
#include "differential/generate/operation_arguments.h"

namespace instar::diff {

namespace {

std::string random_size(Rng& rng) {
  static const std::vector<std::string> kSizes = {"0",    "1",     "512",   "1000000000", "1M",   "1G",  "1T",
                                                  "16T",  "1P",    "7E",    "8E",         "1.5G", "0x1000", "64k",
                                                  "-1",   "abc",   "1e3",   "100000T",    "3T",   "511", "12345678"};
  if (rng.chance(30)) return std::to_string(rng.below(uint64_t{1} << rng.between(1, 50)));
  return rng.pick(kSizes);
}

std::string random_qcow2_options(Rng& rng) {
  std::vector<std::string> parts;
  if (rng.chance(50))
    parts.push_back("cluster_size=" + rng.pick(std::vector<std::string>{"512", "1k", "4k", "16k", "64k", "256k", "2M",
                                                                        "1000", "4M", "abc"}));
  if (rng.chance(30))
    parts.push_back("refcount_bits=" + rng.pick(std::vector<std::string>{"1", "2", "4", "8", "16", "32", "64", "3", "128"}));
  if (rng.chance(25)) parts.push_back("extended_l2=" + rng.pick(std::vector<std::string>{"on", "off", "maybe"}));
  if (rng.chance(25))
    parts.push_back("preallocation=" +
                    rng.pick(std::vector<std::string>{"off", "metadata", "falloc", "full", "bogus"}));
  if (rng.chance(15)) parts.push_back("compat=" + rng.pick(std::vector<std::string>{"0.10", "1.1", "v3"}));
  if (rng.chance(8)) parts.push_back("backing_file=b.qcow2");
  if (rng.chance(5)) parts.push_back(rng.pick(std::vector<std::string>{"lazy_refcounts=on", "bogus=1", "size=1T",
                                                                       "compression_type=zstd", "help"}));
  std::string text;
  for (const auto& p : parts) text += (text.empty() ? "" : ",") + p;
  return text;
}

// -l in each form qemu-img accepts, naming the top's snapshot or not.
std::string random_snapshot(Rng& rng, const ImageSet& images) {
  std::string name = images.snapshots.empty() || rng.chance(15) ? "nosuch" : images.snapshots.front();
  switch (rng.below(6)) {
    case 0:
      return "1";
    case 1:
      return "snapshot.id=" + rng.pick(std::vector<std::string>{"1", "2", ""});
    case 2:
      return "snapshot.name=" + name;
    case 3:
      return "snapshot.id=1,snapshot.name=" + name;
    case 4:
      return rng.pick(std::vector<std::string>{"snapshot.bogus=1", "snapshot.id", ""});
    default:
      return name;
  }
}

}  // namespace

std::vector<std::string> measure_arguments(Rng& rng, const ImageSet& images) {
  std::vector<std::string> args;
  std::string target = rng.chance(70) ? "qcow2" : rng.pick(std::vector<std::string>{"raw", "raw", "vmdk", "bogus"});
  if (rng.chance(90)) args.insert(args.end(), {"-O", target});
  if (target == "qcow2" || rng.chance(10)) {
    std::string options = random_qcow2_options(rng);
    if (!options.empty()) args.insert(args.end(), {"-o", options});
  }
  if (rng.chance(40)) args.push_back(rng.pick(std::vector<std::string>{"--output=json", "--output=human"}));
  if (rng.chance(3)) args.push_back("--output=xml");
  bool size_mode = rng.chance(50);
  if (size_mode) {
    args.insert(args.end(), {"--size", random_size(rng)});
    if (rng.chance(3)) args.push_back(pick_target(rng, images));  // both: rejected
  } else {
    if (rng.chance(15)) {
      std::string format = images.top.substr(images.top.rfind('.') + 1);
      args.insert(args.end(), {"-f", rng.pick(std::vector<std::string>{format, "raw", "qcow2"})});
    }
    if (rng.chance(images.snapshots.empty() ? 5 : 40)) args.insert(args.end(), {"-l", random_snapshot(rng, images)});
    if (!rng.chance(3)) args.push_back(pick_target(rng, images));
  }
  if (rng.chance(3)) args.push_back(rng.pick(std::vector<std::string>{"-U", "--bogus", "-q"}));
  return args;
}

}  // namespace instar::diff
