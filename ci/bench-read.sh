#!/usr/bin/env bash
# bench-read.sh: the read path of instar (convert -O raw, map, check) and check's repair (check -r
# leaks) against qemu-img 7.2, run side by side on the same images in one run. Prints medians and ratios;
# not a test (timings vary with the machine and its load). Setup takes about a minute; set RUNS (default
# 5) for more runs per row.
#
#   INSTAR=build/default/cli/instar SANDBOXES="auto process" RUNS=5 ./ci/bench-read.sh
#
# ROWS picks the rows (default "convert map check repair"): ROWS="map check" sets up only frag.qcow2.
# SAMPLES=1 prints every run's time to stderr.
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
instar="${INSTAR:-$top/build/default/cli/instar}"
qemu_img="${QEMU_IMG:-/usr/bin/qemu-img}"
qemu_io="${QEMU_IO:-$(dirname "$qemu_img")/qemu-io}"
runs="${RUNS:-5}"
sandboxes="${SANDBOXES:-auto process}"
rows="${ROWS:-convert map check repair}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export INSTAR_QEMU_VERSION=7.2

say() { printf '%s\n' "$*" >&2; }
wants() { case " $rows " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

# Images. random.qcow2: 512 MiB of /dev/urandom; zlib/zstd: ~384 MiB of compressible data (the
# /usr binaries, repeated); frag.qcow2: 4 GiB virtual, 64 KiB clusters, every other cluster of the
# first 1 GiB written (8192 data clusters interleaved with holes), by qemu-io in batches.
say "setup in $work"
t0=$(date +%s)
if wants convert; then
  dd if=/dev/urandom of="$work/random.raw" bs=1M count=512 status=none
  "$qemu_img" convert -f raw -O qcow2 "$work/random.raw" "$work/random.qcow2"
  rm -f "$work/random.raw"
  find /usr/bin /usr/lib -maxdepth 2 -type f -size +100k 2>/dev/null | head -400 | xargs cat 2>/dev/null |
    head -c $((384 << 20)) >"$work/text.raw" || true
  "$qemu_img" convert -c -f raw -O qcow2 "$work/text.raw" "$work/zlib.qcow2"
  "$qemu_img" convert -c -f raw -O qcow2 -o compression_type=zstd "$work/text.raw" "$work/zstd.qcow2"
  rm -f "$work/text.raw"
fi
if wants map || wants check; then
  "$qemu_img" create -q -f qcow2 -o cluster_size=64k "$work/frag.qcow2" 4G
  batch=()
  for i in $(seq 0 2 16383); do
    batch+=(-c "write -q -P $((i % 251)) $((i * 65536)) 64k")
    if [ "${#batch[@]}" -ge 4096 ]; then
      "$qemu_io" -f qcow2 "${batch[@]}" "$work/frag.qcow2" >/dev/null
      batch=()
    fi
  done
  [ "${#batch[@]}" -eq 0 ] || "$qemu_io" -f qcow2 "${batch[@]}" "$work/frag.qcow2" >/dev/null
fi
# leaks.qcow2: 1 GiB virtual, 64 KiB clusters, preallocation=metadata (16384 data clusters in two L2
# tables, a sparse file), then the first LEAKS (default 400) entries of the first L2 table zeroed: that
# many leaked clusters for check -r leaks to lower to 0 and discard. (Not more by default: from about
# 1000 leaks the record of lines kills the kvm sandbox's vCPU thread with SIGSYS, see docs/bench.md.)
# Each timed repair works on a fresh sparse copy (the copy is not timed).
leaks="${LEAKS:-400}"
be64() { od -An -tu8 --endian=big -j "$2" -N 8 "$1" | tr -d ' '; }
if wants repair; then
  "$qemu_img" create -q -f qcow2 -o cluster_size=64k,preallocation=metadata "$work/leaks.qcow2" 1G
  l2=$(($(be64 "$work/leaks.qcow2" "$(be64 "$work/leaks.qcow2" 40)") & 0x00fffffffffffe00))
  dd if=/dev/zero of="$work/leaks.qcow2" bs=8 seek=$((l2 / 8)) count="$leaks" conv=notrunc status=none
fi
sync  # the images' dirty pages are written now, not during the timed runs
say "setup took $(($(date +%s) - t0)) s; $(du -sh "$work" | cut -f1) of images"

# Median wall time in microseconds of RUNS runs of the command, then how many runs failed; the output
# file is removed between runs. A failed run (a sandbox timeout) still counts with its time.
median_us() {
  local samples=() failed=0
  for _ in $(seq "$runs"); do
    rm -f "$work/out.raw"
    [ -z "${PREPARE:-}" ] || $PREPARE
    local start end
    start=$(date +%s%N)
    "$@" >/dev/null 2>&1 || failed=$((failed + 1))
    end=$(date +%s%N)
    samples+=($(((end - start) / 1000)))
  done
  rm -f "$work/out.raw"
  [ -z "${SAMPLES:-}" ] || say "  $* (us): ${samples[*]}"
  printf '%s\n' "${samples[@]}" | sort -n |
    awk -v f="$failed" '{ a[NR] = $1 } END { print ((NR % 2) ? a[(NR + 1) / 2] : int((a[NR / 2] + a[NR / 2 + 1]) / 2)), f }'
}

# Whether instar has the subcommand at all (check is newer than convert).
has_subcommand() { "$instar" "$1" --help >/dev/null 2>&1; }

printf '%-26s %-9s %14s %14s %8s\n' operation sandbox qemu-img_ms instar_ms ratio
row() {  # row NAME SUBCOMMAND ARGS...: qemu-img's median, then instar's per sandbox
  local name=$1
  shift
  if ! has_subcommand "$1"; then
    printf '%-26s %-9s %14s %14s %8s\n' "$name" - - - "(instar has no $1: skipped)"
    return
  fi
  local reference reference_failed
  read -r reference reference_failed < <(median_us "$qemu_img" "$@")
  for sandbox in $sandboxes; do
    if [ "$sandbox" = kvm ] && ! [ -w /dev/kvm ]; then
      printf '%-26s %-9s %14s %14s %8s\n' "$name" kvm - - "(no /dev/kvm)"
      continue
    fi
    local t failed note=""
    read -r t failed < <(median_us "$instar" --sandbox="$sandbox" "$@")
    [ "$failed" -eq 0 ] || note="  instar failed $failed of $runs runs"
    [ "$reference_failed" -eq 0 ] || note="$note  qemu-img failed $reference_failed of $runs runs"
    printf '%-26s %-9s %14.1f %14.1f %8.2f%s\n' "$name" "$sandbox" \
      "$(awk -v t="$reference" 'BEGIN { print t / 1000 }')" "$(awk -v t="$t" 'BEGIN { print t / 1000 }')" \
      "$(awk -v t="$t" -v r="$reference" 'BEGIN { print t / r }')" "$note"
  done
}

if wants convert; then
  row "convert random 512M" convert -O raw "$work/random.qcow2" "$work/out.raw"
  row "convert zlib" convert -O raw "$work/zlib.qcow2" "$work/out.raw"
  row "convert zstd" convert -O raw "$work/zstd.qcow2" "$work/out.raw"
fi
if wants map; then row "map frag 4G" map --output=json "$work/frag.qcow2"; fi
if wants check; then row "check frag 4G" check "$work/frag.qcow2"; fi
fresh_leaks() { cp --sparse=always "$work/leaks.qcow2" "$work/repair.qcow2"; }
if wants repair; then PREPARE=fresh_leaks row "check -r leaks $leaks" check -r leaks "$work/repair.qcow2"; fi
