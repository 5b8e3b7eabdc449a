#!/usr/bin/env bash
# make-seeds.sh: regenerates corpora/seeds/<target>/ for the fuzz targets from small images made with
# qemu-img 7.2 and qemu-io (docs/fuzzing.md). The result is deterministic: random and time-dependent
# fields (UUIDs, salts, PBKDF2 counts, dates, VMDK CIDs) are replaced by fixed values.
#
# Usage: ci/make-seeds.sh            (QEMU_IMG / QEMU_IO override /usr/bin/qemu-img / qemu-io)
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
qemu_img="${QEMU_IMG:-/usr/bin/qemu-img}"
qemu_io="${QEMU_IO:-/usr/bin/qemu-io}"
for tool in "$qemu_img" "$qemu_io" python3; do
  command -v "$tool" >/dev/null || { echo "make-seeds: $tool not found" >&2; exit 1; }
done
if ! "$qemu_img" --version | grep -q '^qemu-img version 7\.2'; then
  echo "make-seeds: $qemu_img is not qemu-img 7.2; the seeds are made with 7.2" >&2
  exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

create() { "$qemu_img" create -q "$@"; }
io() { "$qemu_io" "$@" >/dev/null; }

# qemu-img 7.2 sometimes fails to time PBKDF2 ("Unable to get accurate CPU usage"): try again.
create_luks() {
  local i
  for i in $(seq 1 30); do
    if create --object secret,id=s0,data=x "$@" 2>/dev/null; then return 0; fi
  done
  echo "make-seeds: LUKS creation kept failing: $*" >&2
  return 1
}
luks_opts=encrypt.format=luks,encrypt.key-secret=s0,encrypt.iter-time=10

# qcow2: versions, cluster sizes, features. Small virtual sizes keep every file small.
create -f qcow2 -o compat=0.10,cluster_size=512 qcow2-v2-c512.qcow2 1M
create -f qcow2 -o cluster_size=512 qcow2-v3-c512.qcow2 1M
create -f qcow2 qcow2-v3-c64k.qcow2 1M
create -f qcow2 -o cluster_size=2M qcow2-v3-c2m.qcow2 64M
create -f qcow2 -o cluster_size=16k,extended_l2=on qcow2-v3-extended-l2.qcow2 1M
create -f qcow2 -o cluster_size=512,lazy_refcounts=on,refcount_bits=1 qcow2-v3-lazy-refcount1.qcow2 64k
create -f qcow2 -o cluster_size=512,refcount_bits=64 qcow2-v3-refcount64.qcow2 64k
create -f qcow2 -o cluster_size=512 base.qcow2 64k
create -f qcow2 -o cluster_size=512 -b base.qcow2 -F qcow2 qcow2-v3-backing.qcow2 64k
create -f qcow2 -o compat=0.10,cluster_size=512 -b base.qcow2 -F qcow2 qcow2-v2-backing.qcow2 64k
create -f raw base.raw 64k
create -f qcow2 -o cluster_size=512 -b base.raw -F raw qcow2-v3-backing-raw.qcow2 64k
create -f qcow2 -o cluster_size=512,data_file=data.raw,data_file_raw=on qcow2-v3-data-file.qcow2 64k
create -f qcow2 -o cluster_size=512,data_file=data2.raw qcow2-v3-data-file-notraw.qcow2 64k

create -f qcow2 -o cluster_size=512 qcow2-v3-snapshots.qcow2 64k
io -c 'write -P 0x11 0 4k' qcow2-v3-snapshots.qcow2
"$qemu_img" snapshot -c first qcow2-v3-snapshots.qcow2
io -c 'write -P 0x22 0 1k' qcow2-v3-snapshots.qcow2
"$qemu_img" snapshot -c second-snapshot qcow2-v3-snapshots.qcow2
create -f qcow2 -o compat=0.10,cluster_size=512 qcow2-v2-snapshots.qcow2 64k
"$qemu_img" snapshot -c only qcow2-v2-snapshots.qcow2

create -f qcow2 -o cluster_size=512 qcow2-v3-bitmaps.qcow2 64k
"$qemu_img" bitmap --add qcow2-v3-bitmaps.qcow2 b0
"$qemu_img" bitmap --add -g 64k qcow2-v3-bitmaps.qcow2 dirty-1
"$qemu_img" bitmap --add --disable qcow2-v3-bitmaps.qcow2 off

create -f qcow2 -o cluster_size=4k qcow2-v3-compressed-zlib.qcow2 64k
io -c 'write -c -P 0x33 0 4k' -c 'write -c -P 0 4k 4k' -c 'write -P 0x44 8k 4k' qcow2-v3-compressed-zlib.qcow2
create -f qcow2 -o cluster_size=4k,compression_type=zstd qcow2-v3-compressed-zstd.qcow2 64k
io -c 'write -c -P 0x33 0 4k' -c 'write -c -P 0x55 12k 4k' qcow2-v3-compressed-zstd.qcow2

create_luks -f qcow2 -o cluster_size=512,$luks_opts qcow2-v3-luks.qcow2 64k
create --object secret,id=s0,data=x -f qcow2 -o cluster_size=512,encrypt.format=aes,encrypt.key-secret=s0 \
  qcow2-v3-aes.qcow2 64k

# LUKS on its own, with other algorithms.
create_luks -f luks -o key-secret=s0,iter-time=10 luks-aes-xts.luks 1M
create_luks -f luks -o key-secret=s0,iter-time=10,cipher-alg=twofish-128,cipher-mode=cbc,ivgen-alg=essiv,ivgen-hash-alg=sha256 \
  luks-twofish-cbc-essiv.luks 1M
create_luks -f luks -o key-secret=s0,iter-time=10,cipher-alg=serpent-256,cipher-mode=ctr,ivgen-alg=plain,hash-alg=sha512 \
  luks-serpent-ctr-plain.luks 1M

# The other formats qemu-img probes (their heads only).
create -f qcow qcow.qcow 1M
create -f vmdk vmdk-sparse.vmdk 1M
create -f vmdk -o subformat=monolithicFlat vmdk-descriptor.vmdk 1M
create -f vmdk -o subformat=streamOptimized vmdk-stream.vmdk 1M
create -f vpc vpc-dynamic.vhd 1M
create -f vhdx vhdx.vhdx 1M
create -f vdi vdi.vdi 1M
create -f qed qed.qed 1M
create -f parallels parallels.img 1M

python3 - "$work" "$top/corpora/seeds" <<'PY'
"""Turns the images in the work directory into seeds: trimmed, normalised, framed per target."""
import os
import re
import shutil
import struct
import sys

work, out_root = sys.argv[1], sys.argv[2]
targets = ["probe", "qcow2_header", "qcow2_metadata", "info", "record_decoder"]
seeds = {t: {} for t in targets}


def read(name):
    with open(os.path.join(work, name), "rb") as f:
        return bytearray(f.read())


def seed(target, name, data):
    assert name not in seeds[target], name
    assert len(data) < (1 << 20), (target, name, len(data))
    seeds[target][name] = bytes(data)


def round_up(v, a):
    return (v + a - 1) // a * a


def strip_zeros(data, minimum):
    end = len(data.rstrip(b"\0"))
    return data[:max(round_up(end, 8), minimum)]


# --- qcow2 -------------------------------------------------------------------------------------------

def qcow2_header(b):
    (magic, version, backing_offset, backing_size, cluster_bits, size, crypt, l1_size, l1_offset,
     rt_offset, rt_clusters, nb_snapshots, snapshots_offset) = struct.unpack(">IIQIIQIIQQIIQ", b[:72])
    assert magic == 0x514649FB
    h = dict(version=version, backing_offset=backing_offset, backing_size=backing_size,
             cluster_bits=cluster_bits, cluster=1 << cluster_bits, size=size, crypt=crypt,
             nb_snapshots=nb_snapshots, snapshots_offset=snapshots_offset, header_length=72)
    if version == 3:
        h["header_length"] = struct.unpack(">I", b[100:104])[0]
    return h


def qcow2_extensions(b, h):
    pos, end = h["header_length"], h["backing_offset"] or h["cluster"]
    found = {}
    while pos + 8 <= end:
        magic, length = struct.unpack(">II", b[pos:pos + 8])
        if magic == 0:
            break
        found[magic] = (pos + 8, bytes(b[pos + 8:pos + 8 + length]))
        pos += 8 + round_up(length, 8)
    return found


EXT_CRYPTO, EXT_BITMAPS = 0x0537BE77, 0x23852875


def snapshot_entries(b, h):
    """(offset, length) of each snapshot table entry, walked as qemu reads them."""
    pos, entries = h["snapshots_offset"], []
    for _ in range(h["nb_snapshots"]):
        pos = round_up(pos, 8)
        id_size, name_size = struct.unpack(">HH", b[pos + 12:pos + 16])
        extra = struct.unpack(">I", b[pos + 36:pos + 40])[0]
        length = 40 + extra + id_size + name_size
        entries.append((pos, length))
        pos += length
    return entries


def normalise_luks(b, at):
    """Fixed UUID, salts, digest and PBKDF2 counts for the LUKS1 header at `at` (they are random or timed)."""
    b[at + 112:at + 132] = bytes(range(0x10, 0x24))                       # mk_digest
    b[at + 132:at + 164] = bytes(range(0x40, 0x60))                       # mk_digest_salt
    b[at + 164:at + 168] = struct.pack(">I", 1000)                        # mk_digest_iterations
    b[at + 168:at + 208] = b"12345678-9abc-4def-8123-456789abcdef".ljust(40, b"\0")
    for slot in range(8):
        s = at + 208 + 48 * slot
        if struct.unpack(">I", b[s:s + 4])[0] == 0x00AC71F3:
            b[s + 4:s + 8] = struct.pack(">I", 2000)                      # iterations
            b[s + 8:s + 40] = bytes(range(0x80 + slot, 0xA0 + slot))      # salt


def info_image(b, h, ext):
    """The image as info needs it: whole if small, else cut after the last byte info reads."""
    if len(b) <= 64 << 10:
        return b
    first = b[:min(h["cluster"], len(b))]
    needed = len(first.rstrip(b"\0"))
    if h["backing_offset"]:
        needed = max(needed, h["backing_offset"] + h["backing_size"])
    if EXT_CRYPTO in ext:
        needed = max(needed, struct.unpack(">Q", ext[EXT_CRYPTO][1][:8])[0] + 592)
    for pos, length in snapshot_entries(b, h):
        needed = max(needed, pos + length)
    if EXT_BITMAPS in ext:
        _, _, dir_size, dir_offset = struct.unpack(">IIQQ", ext[EXT_BITMAPS][1])
        needed = max(needed, dir_offset + dir_size)
    return b[:round_up(needed, 512)]


def metadata_params(parser, cluster_bits, qemu_10, count, offset, dir_size, disk_size):
    return struct.pack(">BBBBIQQQ", parser, cluster_bits - 9, 1 if qemu_10 else 0, 0, count, offset, dir_size,
                       disk_size)


qcow2_images = sorted(n for n in os.listdir(work) if n.startswith("qcow2-"))
for name in qcow2_images:
    stem = name.rsplit(".", 1)[0]
    b = read(name)
    h = qcow2_header(b)
    ext = qcow2_extensions(b, h)
    for i, (pos, _) in enumerate(snapshot_entries(b, h)):
        b[pos + 16:pos + 24] = struct.pack(">II", 1700000000 + i, 0)      # date_sec, date_nsec
    if EXT_CRYPTO in ext:
        normalise_luks(b, struct.unpack(">Q", ext[EXT_CRYPTO][1][:8])[0])

    seed("qcow2_header", stem, strip_zeros(b[:min(h["cluster"], len(b), 64 << 10)], 112))
    image = info_image(b, h, ext)
    seed("info", "probe-qemu10-" + stem, b"\x04" + image)
    if stem in ("qcow2-v3-luks", "qcow2-v3-bitmaps", "qcow2-v2-snapshots", "qcow2-v3-c512"):
        seed("info", "probe-qemu72-" + stem, b"\x00" + image)
    if stem in ("qcow2-v3-c512", "qcow2-v2-c512"):
        seed("info", "force-qcow2-" + stem, b"\x06" + image)
        seed("info", "force-raw-" + stem, b"\x07" + image)

    if h["nb_snapshots"]:
        entries = snapshot_entries(b, h)
        end = entries[-1][0] + entries[-1][1]
        table = b[h["snapshots_offset"]:end]
        seed("qcow2_metadata", "snapshots-" + stem,
             metadata_params(0, h["cluster_bits"], True, h["nb_snapshots"], h["snapshots_offset"], 0, h["size"])
             + table)
    if EXT_BITMAPS in ext:
        nb, _, dir_size, dir_offset = struct.unpack(">IIQQ", ext[EXT_BITMAPS][1])
        seed("qcow2_metadata", "bitmaps-" + stem,
             metadata_params(1, h["cluster_bits"], True, nb, dir_offset, dir_size, h["size"])
             + b[dir_offset:dir_offset + dir_size])
    if EXT_CRYPTO in ext:
        at = struct.unpack(">Q", ext[EXT_CRYPTO][1][:8])[0]
        for qemu_10 in (False, True):
            seed("qcow2_metadata", "luks-qemu%s-%s" % ("10" if qemu_10 else "72", stem),
                 metadata_params(2, h["cluster_bits"], qemu_10, 0, at, 0, h["size"]) + b[at:at + 592])

for name in ("qcow2-v2-c512.qcow2", "qcow2-v3-c512.qcow2", "qcow2-v3-extended-l2.qcow2"):
    seed("probe", name.rsplit(".", 1)[0], read(name)[:4096])

# --- LUKS and the other formats -------------------------------------------------------------------------

for name in sorted(n for n in os.listdir(work) if n.endswith(".luks")):
    stem = name.rsplit(".", 1)[0]
    b = read(name)[:4096]
    normalise_luks(b, 0)
    seed("probe", stem, b)
    seed("info", "probe-qemu10-" + stem, b"\x04" + b)
    for qemu_10 in (False, True):
        seed("qcow2_metadata", "luks-qemu%s-%s" % ("10" if qemu_10 else "72", stem),
             metadata_params(2, 16, qemu_10, 0, 0, 0, 1 << 20) + b[:1024])


def vpc_checksum(footer):
    return (~sum(footer[:64] + b"\0\0\0\0" + footer[68:512])) & 0xFFFFFFFF


def normalise_vpc(b):
    for at in (0, len(b) - 512):
        f = b[at:at + 512]
        f[24:28] = struct.pack(">I", 0x2A000000)                          # timestamp
        f[68:84] = bytes(range(0x60, 0x70))                               # unique id
        f[64:68] = struct.pack(">I", vpc_checksum(f))
        b[at:at + 512] = f
    return b


heads = {
    "qcow": read("qcow.qcow"),
    "vmdk-sparse": read("vmdk-sparse.vmdk"),
    "vmdk-descriptor": read("vmdk-descriptor.vmdk"),
    "vmdk-stream": read("vmdk-stream.vmdk"),
    "vpc-dynamic": normalise_vpc(read("vpc-dynamic.vhd")),
    "vhdx": read("vhdx.vhdx"),
    "vdi": read("vdi.vdi"),
    "qed": read("qed.qed"),
    "parallels": read("parallels.img"),
}
heads["vdi"][392:424] = bytes(range(0xA0, 0xC0))                          # image and modification UUIDs
for k in ("vmdk-sparse", "vmdk-descriptor", "vmdk-stream"):
    heads[k] = bytearray(re.sub(rb"CID=[0-9a-f]{8}", b"CID=5eed5eed", bytes(heads[k])))

# Formats qemu-img cannot create: the smallest heads their probes accept.
bochs = bytearray(512)
bochs[0:23] = b"Bochs Virtual HD Image\0"
bochs[32:40] = b"Redolog\0"
bochs[48:56] = b"Growing\0"
bochs[64:68] = struct.pack("<I", 0x00020000)
heads["bochs"] = bochs
heads["cloop"] = bytearray(b"#!/bin/sh\n#V2.0 Format\nmodprobe cloop file=$0 && mount -r -t iso9660 /dev/cloop $1\n"
                           + b"\0" * 45)
heads["vmdk-descriptor-crlf"] = bytearray(b"# Disk DescriptorFile\r\n  \r\nversion=1\r\nCID=5eed5eed\r\n")
for stem, b in sorted(heads.items()):
    seed("probe", stem, b[:4096])
    seed("info", "probe-qemu10-" + stem, b"\x04" + b[:4096])

raw = {"raw-empty": b"", "raw-one-byte": b"Q", "raw-zeros-512": bytes(512), "raw-text": b"not an image\n" * 8}
for stem, b in raw.items():
    seed("probe", stem, b)
    seed("info", "probe-qemu72-" + stem, b"\x00" + b)
seed("info", "probe-qemu10-dmg-name-raw-text", b"\x0c" + raw["raw-text"])
seed("info", "force-qcow2-raw-text", b"\x02" + raw["raw-text"])

# --- result records (core/record/record.h; tags from core/ops/info_record.h) ------------------------------

U64, BYTES, BEGIN, END = 0, 1, 2, 3


def record(fields, operation=1, version=1):
    out = bytearray(struct.pack("<IHH", 0x43455249, version, operation))

    def put(tag, kind, payload=b""):
        out.extend(struct.pack("<HBI", tag, kind, len(payload)) + payload)

    def emit(items):
        for tag, value in items:
            if isinstance(value, list):
                put(tag, BEGIN)
                emit(value)
                put(tag, END)
            elif isinstance(value, int):
                put(tag, U64, struct.pack("<Q", value))
            else:
                put(tag, BYTES, value)

    emit(fields)
    return bytes(out)


qcow2_common = [(100, b"qcow2"), (101, 1 << 20), (102, 65536), (103, 0), (104, 0), (110, 3), (111, 0),
                (112, 0), (113, 0), (114, 0), (115, 16)]
nested = [(8, 1)]
for depth in range(8):
    nested = [(7, nested)]
luks_slot = lambda active, offset: [(411, active)] + ([(412, 2000), (413, 4000)] if active else []) + [(414, offset)]
records = {
    "header-only": record([]),
    "error-plain": record([(1, b"Image is not in qcow2 format"), (4, 2)]),
    "error-detail": record([(1, b"Unsupported qcow2 version {}"), (2, 4), (3, 0), (4, 3)]),
    "raw": record([(100, b"raw"), (101, 4096), (104, 0)]),
    "qcow2-plain": record(qcow2_common),
    "qcow2-backing-data-file": record(qcow2_common + [(105, b"base.qcow2"), (106, b"qcow2"), (107, b"data.raw"),
                                                      (108, 1), (109, 1)]),
    "qcow2-snapshots": record(qcow2_common + [
        (200, [(201, b"1"), (202, b"first"), (203, 0), (204, 1700000000), (205, 0), (206, 0), (207, 0)]),
        (200, [(201, b"2"), (202, b"second-snapshot"), (203, 0), (204, 1700000001), (205, 0), (206, 0)])]),
    "qcow2-bitmaps-warning": record(qcow2_common + [
        (300, [(301, b"b0"), (302, 65536), (303, 2)]), (300, [(301, b"off"), (302, 4096), (303, 0)]),
        (5, b"a program lacking bitmap support modified this file, so all bitmaps are now considered "
            b"inconsistent")]),
    "qcow2-luks": record(qcow2_common[:3] + [(103, 1)] + qcow2_common[4:] + [
        (400, [(401, b"luks"), (402, b"aes-256"), (403, b"xts"), (404, b"plain64"), (406, b"sha256"),
               (407, 2 << 20), (408, 1000), (409, b"12345678-9abc-4def-8123-456789abcdef")]
         + [(410, luks_slot(1 if i == 0 else 0, 4096 + i * 258048)) for i in range(8)])]),
    "nested-to-max-depth": record(nested),
    "unknown-operation-empty-bytes": record([(9, b""), (9, b"")], operation=0xFFFF),
}
for stem, b in records.items():
    seed("record_decoder", stem, b)

# --- write ----------------------------------------------------------------------------------------------

for target in targets:
    directory = os.path.join(out_root, target)
    shutil.rmtree(directory, ignore_errors=True)
    os.makedirs(directory)
    for stem, data in sorted(seeds[target].items()):
        with open(os.path.join(directory, stem), "wb") as f:
            f.write(data)
    sizes = [len(d) for d in seeds[target].values()]
    print("make-seeds: %-15s %3d seeds, %7d bytes, largest %6d" % (target, len(sizes), sum(sizes), max(sizes)))
PY
