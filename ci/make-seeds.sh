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


def map_entry(start, length, offset, depth, flags, file):
    return struct.pack("<QQQBBB", start, length, offset, depth, flags, file)


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
    # map: extents packed 27 bytes each, 128 to a kMapEntries field (507; core/ops/map_record.h).
    "map-two-batches": record([(507, b"".join(map_entry(2 * i * 65536, 65536, (5 + i) * 65536, 0, 1 | 4 | 16, 0)
                                              for i in range(128))),
                               (507, map_entry(256 * 65536, 65536, 0, 1, 0, 0) +
                                     map_entry(257 * 65536, 512, 0, 0, 2 | 4, 0))], operation=2),
    "map-unknown-flag": record([(507, map_entry(0, 65536, 0, 0, 32, 0))], operation=2),
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

# inflate: raw DEFLATE streams as qcow2 keeps compressed clusters, made by python3's zlib (windowBits -12 as
# qemu writes them, and -15; levels 0-9; every strategy), each behind inflate_fuzzer.cc's cluster-size byte.
python3 - "$top/corpora/seeds/inflate" <<'PY'
import os
import shutil
import sys
import zlib

out_dir = sys.argv[1]
seeds = {}


def noise(n, seed):
    """Deterministic bytes from a 64-bit LCG (random's algorithms may change between Python versions)."""
    x, out = seed, bytearray()
    while len(out) < n:
        x = (x * 6364136223846793005 + 1442695040888963407) & (2 ** 64 - 1)
        out.append(x >> 56)
    return bytes(out)


def disk_like(n, seed):
    """Text, zero runs, copies near and far and a little noise, like a guest's clusters."""
    words = [b"qcow2 ", b"cluster ", b"the ", b"refcount ", b"table ", b"\n", b"{ ", b"} ", b"return ",
             b"0x1f; "]
    r, out = noise(4 * n, seed), bytearray()
    i = 0
    while len(out) < n:
        kind, arg = r[i % len(r)], r[(i + 1) % len(r)]
        i += 2
        if kind < 40:
            out += bytes(arg * 2)
        elif kind < 60:
            out += r[i % len(r):i % len(r) + arg % 32]
        elif kind < 90 and len(out) > 300:
            start = (arg * 977 + i) % (len(out) - 258)
            out += out[start:start + 3 + arg]
        else:
            out += words[arg % len(words)]
    return bytes(out[:n])


SELECTOR = {512: 0, 1024: 1, 4096: 2, 16384: 3, 65536: 4}


def raw_deflate(data, level, wbits, strategy=zlib.Z_DEFAULT_STRATEGY, mem_level=8):
    c = zlib.compressobj(level, zlib.DEFLATED, wbits, mem_level, strategy)
    return c.compress(data) + c.flush()


def seed(name, data, stream):
    assert name not in seeds, name
    seeds[name] = bytes([SELECTOR[len(data)]]) + stream


for wbits in (-12, -15):
    for level in range(10):
        data = disk_like(4096, level)
        seed("w%d-l%d-4k" % (-wbits, level), data, raw_deflate(data, level, wbits))
        data = disk_like(65536, 100 + level)
        seed("w%d-l%d-64k" % (-wbits, level), data, raw_deflate(data, level, wbits, mem_level=9))
strategies = {"filtered": zlib.Z_FILTERED, "huffman": zlib.Z_HUFFMAN_ONLY, "rle": zlib.Z_RLE,
              "fixed": zlib.Z_FIXED}
for name, strategy in sorted(strategies.items()):
    for size, size_name in ((512, "512"), (65536, "64k")):
        data = disk_like(size, 200 + size)
        seed("w12-l6-%s-%s" % (name, size_name), data, raw_deflate(data, 6, -12, strategy))
seed("w12-l9-noise-512", noise(512, 1), raw_deflate(noise(512, 1), 9, -12))
seed("w12-l6-zeros-64k", bytes(65536), raw_deflate(bytes(65536), 6, -12))
# An exact size of 1000 (selector 6, then the size - 1 in 16 bits) and sector padding, as qcow2 stores it.
data = disk_like(1000, 300)
seeds["w12-l6-1000-padded"] = bytes([6]) + (999).to_bytes(2, "big") + raw_deflate(data, 6, -12) + bytes(300)

shutil.rmtree(out_dir, ignore_errors=True)
os.makedirs(out_dir)
for name, data in sorted(seeds.items()):
    assert len(data) < (1 << 20), name
    with open(os.path.join(out_dir, name), "wb") as f:
        f.write(data)
sizes = [len(d) for d in seeds.values()]
print("make-seeds: %-15s %3d seeds, %7d bytes, largest %6d" % ("inflate", len(sizes), sum(sizes), max(sizes)))
PY

# zstd: frames made by the zstd command-line tool (levels -5..19, with and without checksum and content
# size, several frames and skippable frames per cluster, trailing sector padding), each behind
# zstd_fuzzer.cc's cluster-size byte (7: the first frame's content size).
if command -v zstd >/dev/null; then
  python3 - "$top/corpora/seeds/zstd" "$work" <<'PY'
import os, random, shutil, struct, subprocess, sys

out_dir, work = sys.argv[1], sys.argv[2]
seeds = {}


def disk_like(n, seed):
    rng = random.Random(seed)
    words = [b"qcow2 ", b"cluster ", b"refcount ", b"zstd ", b"\n", b"offset ", b"\x00" * 16, b"table "]
    out = bytearray()
    while len(out) < n:
        r = rng.randrange(10)
        if r < 6:
            out += rng.choice(words)
        elif r < 8 and len(out) > 64:
            start = rng.randrange(len(out) - 32)
            out += out[start:start + rng.randrange(4, 48)]
        else:
            out += bytes(rng.randrange(256) for _ in range(rng.randrange(1, 24)))
    return bytes(out[:n])


def zstd(data, *args):
    # Fed on stdin the tool does not know the size and leaves the content size out; "stdin" asks for that.
    path = os.path.join(work, "zstd-input")
    with open(path, "wb") as f:
        f.write(data)
    options = [a for a in args if a != "stdin"]
    with open(path, "rb") as f:
        command = ["zstd", "-q", "-c", "-T1"] + options + ([] if "stdin" in args else [path])
        return subprocess.run(command, stdin=f, check=True, capture_output=True).stdout


def seed(name, selector, stream, size=None):
    assert name not in seeds, name
    head = bytes([selector]) + (struct.pack(">H", size - 1) if selector == 6 else b"")
    seeds[name] = head + stream


sizes = {"512": (0, 512), "4k": (2, 4096), "64k": (4, 65536)}
for level in (-5, 1, 3, 9, 19):
    for label, (selector, n) in sorted(sizes.items()):
        data = disk_like(n, n + level)
        seed("l%d-%s" % (level, label), selector, zstd(data, "--ultra", "-%d" % level if level > 0 else "--fast=%d" % -level))
seed("l3-4k-checksum", 7, zstd(disk_like(4096, 1), "-3", "--check"))
seed("l3-4k-no-content-size", 2, zstd(disk_like(4096, 2), "-3", "stdin"))
seed("l19-64k-checksum-no-content-size", 4, zstd(disk_like(65536, 3), "-19", "--check", "stdin"))
seed("l1-2m-zeros", 5, zstd(bytes(2 << 20), "-1"))
seed("l3-random-1000", 6, zstd(random.Random(4).randbytes(1000), "-3"), 1000)
data = disk_like(4096, 5)
frames = zstd(data[:1000], "-3") + struct.pack("<II", 0x184D2A5F, 5) + b"skip!" + zstd(data[1000:], "-1", "--check")
seed("l3-4k-two-frames-skippable", 2, frames)
seed("l3-4k-sector-padding", 2, zstd(data, "-3") + bytes(300))

shutil.rmtree(out_dir, ignore_errors=True)
os.makedirs(out_dir)
for name, blob in sorted(seeds.items()):
    assert len(blob) < (1 << 20), name
    with open(os.path.join(out_dir, name), "wb") as f:
        f.write(blob)
lengths = [len(d) for d in seeds.values()]
print("make-seeds: %-15s %3d seeds, %7d bytes, largest %6d" % ("zstd", len(lengths), sum(lengths), max(lengths)))
PY
else
  echo "make-seeds: zstd not found; corpora/seeds/zstd left as it is" >&2
fi

# qcow2_check: small whole qcow2 images (clean, compressed, extended L2, snapshots, bitmaps, refcount
# widths) and copies with the corruptions corpora/cases/check/ makes, each behind qcow2_check_fuzzer.cc's
# selector byte (0: probe with 7.2 rules, 3: -f qcow2 with 10.0 rules). Snapshot dates are fixed.
check_work=$(mktemp -d)
(
  cd "$check_work"
  create -f qcow2 -o cluster_size=4k plain.qcow2 4M && io -c "write -P 0xaa 0 16k" plain.qcow2
  create -f qcow2 -o cluster_size=512 c512.qcow2 1M && io -c "write -P 0x11 0 8k" c512.qcow2
  create -f qcow2 -o cluster_size=4k,refcount_bits=1 rb1.qcow2 1M && io -c "write -P 0x11 0 16k" rb1.qcow2
  create -f qcow2 -o cluster_size=4k,refcount_bits=64 rb64.qcow2 1M && io -c "write -P 0x11 0 16k" rb64.qcow2
  create -f qcow2 -o cluster_size=4k,refcount_bits=4 rb4.qcow2 1M && io -c "write -P 0x11 0 16k" rb4.qcow2
  create -f qcow2 -o cluster_size=16k,extended_l2=on el2.qcow2 1M && io -c "write -P 0x11 0 3k" el2.qcow2
  create -f qcow2 -o cluster_size=4k comp.qcow2 1M && io -c "write -c -P 0x11 0 4k" -c "write -c -P 0x12 4k 4k" comp.qcow2
  create -f qcow2 -o cluster_size=4k snap.qcow2 1M && io -c "write -P 0x11 0 8k" snap.qcow2
  "$qemu_img" snapshot -c one snap.qcow2 && io -c "write -P 0x12 4k 8k" snap.qcow2
  create -f qcow2 -o cluster_size=4k bitmaps.qcow2 1M && "$qemu_img" bitmap --add bitmaps.qcow2 b0
  io -c "write -P 0x11 0 8k" bitmaps.qcow2
  create -f qcow2 -o cluster_size=4k,compat=0.10 v2.qcow2 1M && io -c "write -P 0x11 0 8k" v2.qcow2
)
python3 - "$check_work" "$top/corpora/seeds/qcow2_check" <<'PY'
import os
import shutil
import struct
import sys

work, out_dir = sys.argv[1], sys.argv[2]
seeds = {}


def read(name):
    with open(os.path.join(work, name), "rb") as f:
        return bytearray(f.read())


def header(b):
    cluster_bits, = struct.unpack(">I", b[20:24])
    l1_offset, rt_offset = struct.unpack(">QQ", b[40:56])
    nb_snapshots, snapshots_offset = struct.unpack(">IQ", b[60:72])
    return cluster_bits, l1_offset, rt_offset, nb_snapshots, snapshots_offset


for name in sorted(os.listdir(work)):
    b = read(name)
    cluster_bits, l1_offset, rt_offset, nb, so = header(b)
    if nb:  # one snapshot: fix its date
        b[so + 16:so + 24] = struct.pack(">II", 1700000000, 0)
    stem = name.rsplit(".", 1)[0]
    seeds["probe-qemu72-" + stem] = b"\x00" + b
    seeds["force-qemu10-" + stem] = b"\x03" + b

b = read("plain.qcow2")
cluster_bits, l1_offset, rt_offset, _, _ = header(b)
l2_offset = struct.unpack(">Q", b[l1_offset:l1_offset + 8])[0] & 0x00fffffffffffe00
refblock = struct.unpack(">Q", b[rt_offset:rt_offset + 8])[0]


def patched(at, data):
    c = bytearray(b)
    c[at:at + len(data)] = data
    return b"\x00" + c


seeds["corrupt-refcount-zero"] = patched(refblock + 2 * 5, b"\0\0")
seeds["corrupt-leak"] = patched(refblock + 2 * 6, b"\0\x02")
seeds["corrupt-l2-unaligned"] = patched(l2_offset, struct.pack(">Q", (1 << 63) | 0x5200))
seeds["corrupt-l2-past-eof"] = patched(l2_offset, struct.pack(">Q", (1 << 63) | 0x10000000))
seeds["corrupt-l1-copied"] = patched(l1_offset, struct.pack(">Q", l2_offset))
seeds["corrupt-reftable-outside"] = patched(rt_offset + 8, struct.pack(">Q", 0x10000000))
seeds["corrupt-refblock-unaligned"] = patched(rt_offset, struct.pack(">Q", refblock | 0x200))
# The same with repair (selector bit 2: -r leaks, bit 3: -r all): the image is a writable copy.
for source, name, bits in (("corrupt-leak", "repair-leaks-leak", 4), ("corrupt-leak", "repair-all-leak", 12),
                           ("corrupt-refcount-zero", "repair-all-refcount-zero", 8),
                           ("corrupt-l1-copied", "repair-all-l1-copied", 12),
                           ("corrupt-reftable-outside", "repair-all-reftable-outside", 8)):
    seeds[name] = bytes([seeds[source][0] | bits]) + seeds[source][1:]

shutil.rmtree(out_dir, ignore_errors=True)
os.makedirs(out_dir)
for name, blob in sorted(seeds.items()):
    assert len(blob) < (1 << 20), name
    with open(os.path.join(out_dir, name), "wb") as f:
        f.write(blob)
lengths = [len(d) for d in seeds.values()]
print("make-seeds: %-15s %3d seeds, %7d bytes, largest %6d" % ("qcow2_check", len(lengths), sum(lengths), max(lengths)))
PY
rm -rf "$check_work"

# map: small whole images (raw; qcow2 v2 and v3, 512 B-16 KiB clusters, zero and compressed clusters, zlib and
# zstd, extended L2, metadata preallocation, a backing file name, an external data file) behind map_fuzzer.cc's
# selector byte and window (a shape byte and two 64-bit values), with a few descriptions for its image builder.
map_work=$(mktemp -d)
(
  cd "$map_work"
  create -f qcow2 -o cluster_size=512 c512.qcow2 1M
  io -c "write -P 0x11 0 8k" -c "write -z 16k 4k" -c "write -P 0x12 20k 1k" -c "write -z -u 2k 1k" c512.qcow2
  create -f qcow2 -o cluster_size=4k,compat=0.10 v2.qcow2 1M && io -c "write -P 0x11 4k 8k" -c "discard 8k 4k" v2.qcow2
  create -f qcow2 -o cluster_size=16k,extended_l2=on el2.qcow2 1M
  io -c "write -P 0x11 0 3k" -c "write -z 4k 2k" -c "write -P 0x12 17k 1k" el2.qcow2
  create -f qcow2 -o cluster_size=4k zlib.qcow2 1M && io -c "write -c -P 0x11 0 4k" -c "write -P 0x12 4k 4k" zlib.qcow2
  create -f qcow2 -o cluster_size=4k,compression_type=zstd zstd.qcow2 1M && io -c "write -c -P 0x11 8k 4k" zstd.qcow2
  create -f qcow2 -o cluster_size=512,preallocation=metadata prealloc.qcow2 32k
  create -f qcow2 -o cluster_size=4k base.qcow2 1M
  create -f qcow2 -o cluster_size=4k -b base.qcow2 -F qcow2 overlay.qcow2 && io -c "write -P 0x11 4k 4k" overlay.qcow2
  create -f qcow2 -o cluster_size=4k,data_file=img.data datafile.qcow2 1M && io -c "write -P 0x11 0 8k" datafile.qcow2
  truncate -s 64k sparse.raw && io -f raw -c "write -P 0x11 8k 4k" sparse.raw
)
python3 - "$map_work" "$top/corpora/seeds/map" <<'PY'
import os
import shutil
import struct
import sys

work, out_dir = sys.argv[1], sys.argv[2]
seeds = {}


def read(name):
    with open(os.path.join(work, name), "rb") as f:
        return f.read()


def window(shape=0, a=0, b=0):
    return bytes([shape]) + struct.pack(">QQ", a, b)


# Selector: bit 0 qemu 10.0; bits 1-2 = 2 probe the bytes, 3 force (bit 3: qcow2, else raw); bit 4 sparse
# devices; bits 5-6 attach 1 a built image, 2 the image again, 3 zeros.
PROBE, FORCE_QCOW2, FORCE_RAW, QEMU10, SPARSE = 0x04, 0x0E, 0x06, 0x01, 0x10
ATTACH_BUILT, ATTACH_SAME, ATTACH_ZEROS = 0x20, 0x40, 0x60
for name in sorted(os.listdir(work)):
    if name.endswith(".data"):
        continue
    stem = name.rsplit(".", 1)[0]
    b = read(name)
    attach = ATTACH_ZEROS if stem in ("overlay", "datafile") else 0
    seeds["probe-qemu72-" + stem] = bytes([PROBE | attach]) + window() + b
    seeds["probe-qemu10-sparse-" + stem] = bytes([PROBE | QEMU10 | SPARSE | attach]) + window() + b
    seeds["window-qemu10-" + stem] = bytes([PROBE | QEMU10 | attach]) + window(0x44, 8192 + 512, 4096 + 1) + b
    if name.endswith(".qcow2"):
        seeds["force-raw-" + stem] = bytes([FORCE_RAW]) + window(0x43, 2, 16) + b
    else:
        seeds["force-qcow2-" + stem] = bytes([FORCE_QCOW2]) + window() + b
b = read("overlay.qcow2")
seeds["chain-same-overlay"] = bytes([PROBE | ATTACH_SAME]) + window() + b

# Descriptions for build_image(): the empty one (a bare v2 image), and a few spelled out value by value.
seeds["built-empty"] = b""
def built(version, shape, ext, clusters, cut, l1, size, odd, features, l1_choices, runs, pokes=0):
    d = bytes([version, shape, ext, clusters, cut, l1]) + struct.pack(">I", size) + bytes([odd, features])
    for c in l1_choices:
        d += bytes(c)
    for run in runs:
        d += bytes(run)
    return d + bytes([0, pokes])
# v3, 512 B clusters, 1 L1 entry, 2048 sectors: runs of normal, zero, compressed and unallocated entries.
seeds["built-v3-c512-runs"] = bytes([0x01]) + window() + built(
    1, 0, 0, 20, 0, 0, 64, 1, 0, [[10, 3]], [[4, 1, 7], [3, 3], [2, 5, 1, 0, 0, 0, 64], [5, 0], [2, 4, 9]])
# v3 with extended L2 (16 KiB clusters), a backing file name, sparse devices, a zero-filled backing file.
seeds["built-v3-el2-backing"] = bytes([0x01 | SPARSE | ATTACH_ZEROS]) + window(0x44, 3, 200) + built(
    1, 0x87, 3, 8, 0, 0, 64, 1, 0x04, [[0, 4]], [[3, 1, 0, 0, 0xff, 0xff, 0, 5], [2, 0x83, 0, 0, 0, 3, 0, 0, 0, 1]])
# v2 with a data file and a zero flag (corrupt in v2).
seeds["built-v2-zero-flag"] = bytes([0x00 | ATTACH_ZEROS]) + window() + built(
    0, 1, 0, 10, 0, 0, 100, 1, 0x20, [[0, 2]], [[2, 3], [1, 1, 5]])
# A built image naming a backing file, and a second built image (v3, 512 B clusters) attached as it.
seeds["built-chain-second"] = bytes([ATTACH_BUILT]) + window() + built(
    1, 0, 0, 6, 0, 0, 64, 1, 0x04, [[0, 1]], [[8, 1, 2], [8, 0], [4, 3]]) + bytes([1]) + built(
    1, 0, 0, 6, 0, 0, 128, 1, 0, [[0, 2]], [[16, 2, 0], [3, 4, 1]])

shutil.rmtree(out_dir, ignore_errors=True)
os.makedirs(out_dir)
for name, blob in sorted(seeds.items()):
    assert len(blob) < (1 << 20), name
    with open(os.path.join(out_dir, name), "wb") as f:
        f.write(blob)
lengths = [len(d) for d in seeds.values()]
print("make-seeds: %-15s %3d seeds, %7d bytes, largest %6d" % ("map", len(lengths), sum(lengths), max(lengths)))
PY
rm -rf "$map_work"

# compare: pairs of small whole images (raw and qcow2 with the same content, one changed sector, different
# sizes, zero and unallocated clusters, compressed clusters, an overlay naming a backing file) behind
# compare_fuzzer.cc's selector byte and the u32 that cuts the rest into the two images.
compare_work=$(mktemp -d)
(
  cd "$compare_work"
  truncate -s 64k a.raw && io -f raw -c "write -P 0x11 4k 8k" a.raw
  cp a.raw b.raw && printf '\x01' | dd of=b.raw bs=1 seek=9000 conv=notrunc status=none
  truncate -s 96k long.raw && io -f raw -c "write -P 0x11 4k 8k" long.raw
  "$qemu_img" convert -O qcow2 -o cluster_size=4k a.raw a.qcow2
  "$qemu_img" convert -c -O qcow2 -o cluster_size=4k a.raw c.qcow2
  create -f qcow2 -o cluster_size=4k z.qcow2 64k && io -c "write -z 16k 4k" -c "write -P 0 20k 4k" z.qcow2
  create -f qcow2 -o cluster_size=4k e.qcow2 64k
  create -f qcow2 -o cluster_size=4k -b a.qcow2 -F qcow2 overlay.qcow2 && io -c "write -P 0x11 4k 4k" overlay.qcow2
)
python3 - "$compare_work" "$top/corpora/seeds/compare" <<'PY'
import os
import shutil
import struct
import sys

work, out_dir = sys.argv[1], sys.argv[2]
def read(name):
    with open(os.path.join(work, name), "rb") as f:
        return f.read()
# selector bits: 0 qemu 10.0, 1 -s, 2 -f qcow2, 3 -F qcow2, 4 sparse, 5 same bytes twice, 6 zeros as backing
def pair(selector, first, second):
    a, b = read(first), read(second)
    return bytes([selector]) + struct.pack("<I", len(a)) + a + b
seeds = {
    "raw-same": pair(0x00, "a.raw", "a.raw"),
    "raw-changed": pair(0x11, "a.raw", "b.raw"),
    "raw-longer-strict": pair(0x03, "a.raw", "long.raw"),
    "raw-longer": pair(0x10, "long.raw", "a.raw"),
    "qcow2-raw": pair(0x04, "a.qcow2", "a.raw"),
    "qcow2-raw-strict": pair(0x13, "a.qcow2", "b.raw"),
    "compressed-raw": pair(0x01, "c.qcow2", "a.raw"),
    "zero-empty-strict": pair(0x0e, "z.qcow2", "e.qcow2"),
    "zero-empty": pair(0x0c, "z.qcow2", "e.qcow2"),
    "overlay-base": pair(0x08, "a.raw", "overlay.qcow2"),
    "overlay-zeros": pair(0x48, "a.raw", "overlay.qcow2"),
    "overlay-self": pair(0x20, "overlay.qcow2", "a.raw"),
}
shutil.rmtree(out_dir, ignore_errors=True)
os.makedirs(out_dir)
for name, blob in sorted(seeds.items()):
    assert len(blob) < (1 << 20), name
    with open(os.path.join(out_dir, name), "wb") as f:
        f.write(blob)
lengths = [len(d) for d in seeds.values()]
print("make-seeds: %-15s %3d seeds, %7d bytes, largest %6d" % ("compare", len(lengths), sum(lengths), max(lengths)))
PY
rm -rf "$compare_work"
