// image_report.cc: maps a decoded info record onto ImageReport.
#include "cli/info/image_report.h"

#include "core/ops/info_record.h"

namespace instar::cli {

Result<void> report_from_record(const DecodedRecord& record, ImageReport& report,
                                std::optional<RecordError>& error) {
  const RecordField& r = record.root;
  if (record.operation != static_cast<uint16_t>(Operation::info))
    return make_error(Errc::invalid, "result record is not an info record");
  if (auto message = record_error_message(r)) {
    error = RecordError{*message};
    return ok();
  }
  auto format = r.string_of(kInfoFormat);
  auto size = r.u64_of(kInfoVirtualSize);
  if (!format || !size) return make_error(Errc::invalid, "info record lacks format or size");
  report.format = *format;
  report.virtual_size = *size;
  report.cluster_size = r.u64_of(kInfoClusterSize);
  report.encrypted = r.bool_of(kInfoEncrypted);
  report.dirty = r.bool_of(kInfoDirty);
  report.backing_name = r.string_of(kInfoBackingName);
  report.backing_format = r.string_of(kInfoBackingFormat);
  for (const RecordField* w : r.find_all(kTagWarning)) report.warnings.push_back(w->bytes);
  for (const RecordField* s : r.find_all(kInfoSnapshot)) {
    SnapshotReport sn;
    sn.id = s->string_of(kInfoSnapshotId).value_or("");
    sn.name = s->string_of(kInfoSnapshotName).value_or("");
    sn.vm_state_size = s->u64_of(kInfoSnapshotVmStateSize).value_or(0);
    sn.date_sec = s->u64_of(kInfoSnapshotDateSec).value_or(0);
    sn.date_nsec = s->u64_of(kInfoSnapshotDateNsec).value_or(0);
    sn.vm_clock_nsec = s->u64_of(kInfoSnapshotVmClockNsec).value_or(0);
    sn.icount = s->u64_of(kInfoSnapshotIcount);
    report.snapshots.push_back(std::move(sn));
  }
  if (auto version = r.u64_of(kInfoQcow2Version)) {
    Qcow2Report q;
    q.version = *version;
    q.compression_type = r.u64_of(kInfoCompressionType).value_or(0);
    q.refcount_bits = r.u64_of(kInfoRefcountBits).value_or(16);
    q.lazy_refcounts = r.bool_of(kInfoLazyRefcounts);
    q.corrupt = r.bool_of(kInfoCorrupt);
    q.extended_l2 = r.bool_of(kInfoExtendedL2);
    q.data_file = r.string_of(kInfoDataFileName);
    q.data_file_required = r.bool_of(kInfoDataFileRequired);
    q.data_file_raw = r.bool_of(kInfoDataFileRaw);
    for (const RecordField* b : r.find_all(kInfoBitmap)) {
      q.bitmaps.push_back(BitmapReport{b->string_of(kInfoBitmapName).value_or(""),
                                       b->u64_of(kInfoBitmapGranularity).value_or(0),
                                       b->u64_of(kInfoBitmapFlags).value_or(0)});
    }
    if (const RecordField* e = r.find(kInfoEncryption)) {
      EncryptionReport enc;
      enc.format = e->string_of(kInfoEncryptionFormat).value_or("");
      enc.cipher_alg = e->string_of(kInfoLuksCipherAlg).value_or("");
      enc.cipher_mode = e->string_of(kInfoLuksCipherMode).value_or("");
      enc.ivgen_alg = e->string_of(kInfoLuksIvgenAlg).value_or("");
      enc.ivgen_hash_alg = e->string_of(kInfoLuksIvgenHashAlg);
      enc.hash_alg = e->string_of(kInfoLuksHashAlg).value_or("");
      enc.uuid = e->string_of(kInfoLuksUuid).value_or("");
      enc.payload_offset = e->u64_of(kInfoLuksPayloadOffset).value_or(0);
      enc.master_key_iters = e->u64_of(kInfoLuksMasterKeyIters).value_or(0);
      for (const RecordField* s : e->find_all(kInfoLuksSlot)) {
        LuksSlotReport slot;
        slot.active = s->bool_of(kInfoLuksSlotActive);
        slot.iters = s->u64_of(kInfoLuksSlotIters);
        slot.stripes = s->u64_of(kInfoLuksSlotStripes);
        slot.key_offset = s->u64_of(kInfoLuksSlotKeyOffset).value_or(0);
        enc.slots.push_back(slot);
      }
      q.encryption = std::move(enc);
    }
    report.qcow2 = std::move(q);
  }
  return ok();
}

}  // namespace instar::cli
