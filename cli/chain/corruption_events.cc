// corruption_events.cc: checking the corruption events of a record.
#include "cli/chain/corruption_events.h"

#include "core/image/chain.h"
#include "core/ops/info_record.h"

namespace instar::cli {

namespace {

constexpr char kPrefix[] = "qcow2: Image is corrupt: ";
constexpr char kSuffix[] = "; further non-fatal corruption events will be suppressed";
constexpr size_t kMaxLine = 512;
// One per qcow2 layer of at most two chains (compare).
constexpr size_t kMaxEvents = 2 * image::kMaxChainLength;

bool well_formed(const RecordField& f) {
  if (f.is_group || f.is_u64 || f.bytes.size() > kMaxLine) return false;
  const std::string& s = f.bytes;
  std::string prefix(kPrefix), suffix(kSuffix);
  if (s.size() < prefix.size() + suffix.size()) return false;
  if (s.compare(0, prefix.size(), prefix) != 0) return false;
  if (s.compare(s.size() - suffix.size(), suffix.size(), suffix) != 0) return false;
  for (char c : s)
    if (c < 0x20 || c > 0x7e) return false;
  return true;
}

}  // namespace

std::optional<std::vector<std::string>> corruption_events(const RecordField& root) {
  std::vector<std::string> lines;
  for (const RecordField* f : root.find_all(kTagCorruptionEvent)) {
    if (!well_formed(*f) || lines.size() == kMaxEvents) return std::nullopt;
    lines.push_back(f->bytes);
  }
  return lines;
}

}  // namespace instar::cli
