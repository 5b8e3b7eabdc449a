#!/usr/bin/env bash
# bench-launch.sh: launch latency of `instar info` under each sandbox against
# `qemu-img info`, run side by side on the same images. Prints medians and
# ratios; not a test (timings vary with the machine and its load).
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
instar="${INSTAR:-$top/build/default/cli/instar}"
runs="${RUNS:-20}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
qemu-img create -q -f qcow2 "$work/img.qcow2" 1G
qemu-img create -q -f raw "$work/img.raw" 64M

# Median wall time in microseconds of RUNS runs of the command.
median_us() {
  local samples=()
  for _ in $(seq "$runs"); do
    local start end
    start=$(date +%s%N)
    "$@" >/dev/null 2>&1 || true
    end=$(date +%s%N)
    samples+=($(( (end - start) / 1000 )))
  done
  printf '%s\n' "${samples[@]}" | sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : int((a[NR / 2] + a[NR / 2 + 1]) / 2) }'
}

printf '%-8s %-12s %12s %10s\n' image runner median_ms ratio
for image in img.qcow2 img.raw; do
  reference=$(median_us qemu-img info "$work/$image")
  printf '%-8s %-12s %12.2f %10s\n' "${image#img.}" qemu-img "$(awk -v t="$reference" 'BEGIN { print t / 1000 }')" 1.00
  for sandbox in kvm process none; do
    if [ "$sandbox" = kvm ] && ! [ -w /dev/kvm ]; then
      printf '%-8s %-12s %12s %10s\n' "${image#img.}" "instar/kvm" - "(no /dev/kvm)"
      continue
    fi
    t=$(median_us "$instar" --sandbox="$sandbox" info "$work/$image")
    printf '%-8s %-12s %12.2f %10.2f\n' "${image#img.}" "instar/$sandbox" "$(awk -v t="$t" 'BEGIN { print t / 1000 }')" \
      "$(awk -v t="$t" -v r="$reference" 'BEGIN { print t / r }')"
  done
done
