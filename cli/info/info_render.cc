// info_render.cc: builds qemu's ImageInfo as QObjects and prints it the way qemu-img does.
#include "cli/info/info_render.h"

#include <time.h>

#include <cinttypes>
#include <cstdarg>
#include <cstdio>

#include "cli/render/size.h"

namespace instar::cli {

namespace {

QObject int_value(uint64_t v) { return QObject::integer(static_cast<int64_t>(v)); }

QObject snapshot_qobject(const SnapshotReport& s) {
  QObject o = QObject::dict();
  o.put("id", QObject::string(s.id));
  o.put("name", QObject::string(s.name));
  o.put("vm-state-size", int_value(s.vm_state_size));
  o.put("date-sec", int_value(s.date_sec));
  o.put("date-nsec", int_value(s.date_nsec));
  o.put("vm-clock-sec", int_value(s.vm_clock_nsec / 1000000000));
  o.put("vm-clock-nsec", int_value(s.vm_clock_nsec % 1000000000));
  if (s.icount) o.put("icount", int_value(*s.icount));
  return o;
}

QObject encryption_qobject(const EncryptionReport& e, const Profile& profile) {
  QObject o = QObject::dict();
  o.put("format", QObject::string(e.format));
  if (e.format != "luks") return o;
  o.put("cipher-alg", QObject::string(e.cipher_alg));
  o.put("cipher-mode", QObject::string(e.cipher_mode));
  o.put("ivgen-alg", QObject::string(e.ivgen_alg));
  if (e.ivgen_hash_alg) o.put("ivgen-hash-alg", QObject::string(*e.ivgen_hash_alg));
  o.put("hash-alg", QObject::string(e.hash_alg));
  if (profile.major >= 9) o.put("detached-header", QObject::boolean(false));
  o.put("payload-offset", int_value(e.payload_offset));
  o.put("master-key-iters", int_value(e.master_key_iters));
  o.put("uuid", QObject::string(e.uuid));
  QObject slots = QObject::list();
  for (const auto& s : e.slots) {
    QObject slot = QObject::dict();
    slot.put("active", QObject::boolean(s.active));
    if (s.iters) slot.put("iters", int_value(*s.iters));
    if (s.stripes) slot.put("stripes", int_value(*s.stripes));
    slot.put("key-offset", int_value(s.key_offset));
    slots.append(std::move(slot));
  }
  o.put("slots", std::move(slots));
  return o;
}

QObject qcow2_data_qobject(const Qcow2Report& q, const Profile& profile) {
  QObject d = QObject::dict();
  const char* compression = q.compression_type == 1 ? "zstd" : "zlib";
  if (q.version == 2) {
    d.put("compat", QObject::string("0.10"));
    d.put("refcount-bits", int_value(q.refcount_bits));
    d.put("compression-type", QObject::string(compression));
    return d;
  }
  d.put("compat", QObject::string("1.1"));
  if (q.data_file) d.put("data-file", QObject::string(*q.data_file));
  if (q.data_file_required) d.put("data-file-raw", QObject::boolean(q.data_file_raw));
  d.put("extended-l2", QObject::boolean(q.extended_l2));
  d.put("lazy-refcounts", QObject::boolean(q.lazy_refcounts));
  d.put("corrupt", QObject::boolean(q.corrupt));
  d.put("refcount-bits", int_value(q.refcount_bits));
  if (q.encryption) d.put("encrypt", encryption_qobject(*q.encryption, profile));
  if (!q.bitmaps.empty()) {
    QObject list = QObject::list();
    for (const auto& b : q.bitmaps) {
      QObject bitmap = QObject::dict();
      bitmap.put("name", QObject::string(b.name));
      bitmap.put("granularity", int_value(b.granularity));
      QObject flags = QObject::list();
      if (b.flags & 1) flags.append(QObject::string("in-use"));
      if (b.flags & 2) flags.append(QObject::string("auto"));
      bitmap.put("flags", std::move(flags));
      list.append(std::move(bitmap));
    }
    d.put("bitmaps", std::move(list));
  }
  d.put("compression-type", QObject::string(compression));
  return d;
}

QObject format_specific_qobject(const ImageReport& r, const Profile& profile) {
  QObject spec = QObject::dict();
  spec.put("type", QObject::string("qcow2"));
  spec.put("data", qcow2_data_qobject(*r.qcow2, profile));
  return spec;
}

// The file driver reports its length in whole sectors.
uint64_t file_node_length(const ImageReport& r) { return (r.file_length + 511) / 512 * 512; }

// The protocol node under every format node in 8.0+.
QObject file_child_qobject(const ImageReport& r) {
  QObject info = QObject::dict();
  info.put("filename", QObject::string(r.filename));
  info.put("format", QObject::string("file"));
  info.put("dirty-flag", QObject::boolean(false));
  if (r.actual_size) info.put("actual-size", int_value(*r.actual_size));
  info.put("virtual-size", int_value(file_node_length(r)));
  QObject spec = QObject::dict();
  spec.put("type", QObject::string("file"));
  spec.put("data", QObject::dict());
  info.put("format-specific", std::move(spec));
  info.put("children", QObject::list());
  QObject child = QObject::dict();
  child.put("name", QObject::string("file"));
  child.put("info", std::move(info));
  return child;
}

// printf into a std::string (the formats are qemu's own, so they stay printf formats).
[[gnu::format(printf, 1, 2)]] std::string printf_string(const char* format, ...) {
  va_list args;
  va_start(args, format);
  va_list again;
  va_copy(again, args);
  int n = std::vsnprintf(nullptr, 0, format, args);
  va_end(args);
  std::string out(n > 0 ? static_cast<size_t>(n) : 0, '\0');
  std::vsnprintf(out.data(), out.size() + 1, format, again);
  va_end(again);
  return out;
}

// bdrv_snapshot_dump(): the header row (s == nullptr) or one snapshot, without the newline.
std::string snapshot_line(const SnapshotReport* s, const Profile& profile) {
  bool v2 = profile.snapshot_columns_v2();
  if (s == nullptr) {
    return v2 ? printf_string("%-7s %-16s %8s %19s %15s %10s", "ID", "TAG", "VM_SIZE", "DATE", "VM_CLOCK",
                              "ICOUNT")
              : printf_string("%-10s%-17s%8s%20s%13s%11s", "ID", "TAG", "VM SIZE", "DATE", "VM CLOCK",
                              "ICOUNT");
  }
  // qemu copies id and name into fixed buffers (128 and 256 bytes) before printing.
  std::string id = s->id.substr(0, 127), name = s->name.substr(0, 255);
  id = id.substr(0, id.find('\0'));
  name = name.substr(0, name.find('\0'));
  time_t t = static_cast<time_t>(s->date_sec);
  struct tm tm;
  localtime_r(&t, &tm);
  char date[64];
  strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S", &tm);
  uint64_t secs = s->vm_clock_nsec / 1000000000;
  std::string clock =
      printf_string(v2 ? "%04d:%02d:%02d.%03d" : "%02d:%02d:%02d.%03d", static_cast<int>(secs / 3600),
                    static_cast<int>((secs / 60) % 60), static_cast<int>(secs % 60),
                    static_cast<int>((s->vm_clock_nsec / 1000000) % 1000));
  std::string icount = s->icount ? std::to_string(static_cast<int64_t>(*s->icount)) : v2 ? "--" : "";
  std::string size = size_to_str(s->vm_state_size);
  return v2 ? printf_string("%-7s %-16s %8s %19s %15s %10s", id.c_str(), name.c_str(), size.c_str(), date,
                            clock.c_str(), icount.c_str())
            : printf_string("%-9s %-16s %8s%20s%13s%11s", id.c_str(), name.c_str(), size.c_str(), date,
                            clock.c_str(), icount.c_str());
}

std::string disk_size_text(const std::optional<uint64_t>& actual) {
  return actual ? size_to_str(*actual) : "unavailable";
}

}  // namespace

QObject image_info_qobject(const ImageReport& r, const Profile& profile) {
  QObject o = QObject::dict();
  o.put("filename", QObject::string(r.filename));
  o.put("format", QObject::string(r.format));
  o.put("dirty-flag", QObject::boolean(r.dirty));
  if (r.actual_size) o.put("actual-size", int_value(*r.actual_size));
  o.put("virtual-size", int_value(r.virtual_size));
  if (r.cluster_size) o.put("cluster-size", int_value(*r.cluster_size));
  if (r.encrypted) o.put("encrypted", QObject::boolean(true));
  if (r.backing_name) {
    o.put("backing-filename", QObject::string(*r.backing_name));
    if (r.full_backing_name) o.put("full-backing-filename", QObject::string(*r.full_backing_name));
    if (r.backing_format) o.put("backing-filename-format", QObject::string(*r.backing_format));
  }
  if (!r.snapshots.empty()) {
    QObject list = QObject::list();
    for (const auto& s : r.snapshots) list.append(snapshot_qobject(s));
    o.put("snapshots", std::move(list));
  }
  if (r.qcow2) o.put("format-specific", format_specific_qobject(r, profile));
  if (profile.has_child_nodes()) {
    QObject children = QObject::list();
    children.append(file_child_qobject(r));
    o.put("children", std::move(children));
  }
  return o;
}

std::string render_info_human(const ImageReport& r, const Profile& profile) {
  std::string out;
  out += "image: " + r.filename + "\n";
  out += "file format: " + r.format + "\n";
  out += "virtual size: " + size_to_str(r.virtual_size) +
         printf_string(" (%" PRId64 " bytes)\n", static_cast<int64_t>(r.virtual_size));
  out += "disk size: " + disk_size_text(r.actual_size) + "\n";
  if (r.encrypted) out += "encrypted: yes\n";
  if (r.cluster_size) out += "cluster_size: " + std::to_string(*r.cluster_size) + "\n";
  if (r.dirty) out += "cleanly shut down: no\n";
  if (r.backing_name) {
    out += "backing file: " + *r.backing_name;
    if (r.full_backing_name && *r.full_backing_name != *r.backing_name)
      out += " (actual path: " + *r.full_backing_name + ")";
    out += "\n";
    if (r.backing_format) out += "backing file format: " + *r.backing_format + "\n";
  }
  if (!r.snapshots.empty()) {
    out += "Snapshot list:\n";
    out += snapshot_line(nullptr, profile) + "\n";
    for (const auto& s : r.snapshots) out += snapshot_line(&s, profile) + "\n";
  }
  if (r.qcow2) {
    out += "Format specific information:\n";
    dump_qobject(qcow2_data_qobject(*r.qcow2, profile), 1, out);
  }
  if (profile.has_child_nodes()) {
    out += "Child node '/file':\n";
    out += "    filename: " + r.filename + "\n";
    out += "    protocol type: file\n";
    out += "    file length: " + size_to_str(file_node_length(r)) +
           printf_string(" (%" PRId64 " bytes)\n", static_cast<int64_t>(file_node_length(r)));
    out += "    disk size: " + disk_size_text(r.actual_size) + "\n";
  }
  return out;
}

std::string render_info_human_chain(const std::vector<ImageReport>& chain, const Profile& profile) {
  std::string out;
  for (size_t i = 0; i < chain.size(); i++) {
    if (i > 0) out += "\n";
    out += render_info_human(chain[i], profile);
  }
  return out;
}

std::string render_info_json(const std::vector<ImageReport>& chain, bool as_list, const Profile& profile) {
  if (!as_list) return to_json_pretty(image_info_qobject(chain.front(), profile)) + "\n";
  QObject list = QObject::list();
  for (const auto& r : chain) list.append(image_info_qobject(r, profile));
  return to_json_pretty(list) + "\n";
}

}  // namespace instar::cli
