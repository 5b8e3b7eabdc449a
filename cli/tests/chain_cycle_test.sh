#!/bin/sh
# chain_cycle_test.sh: a backing chain that loops (b.qcow2 -> a.qcow2 -> b.qcow2).
# qemu-img hangs on it (docs/measure.md), so no parity case can cover it: this
# checks that instar's reading operations stop with a clear error instead.
# Usage: chain_cycle_test.sh INSTAR QEMU_IMG SANDBOX
set -u
instar=$1 qemu_img=$2 sandbox=$3
[ -x "$qemu_img" ] || { echo "SKIP: $qemu_img is missing"; exit 77; }
dir=$(mktemp -d "${TMPDIR:-/tmp}/instar-cycle-XXXXXX") || exit 1
trap 'rm -rf "$dir"' EXIT
cd "$dir" || exit 1
"$qemu_img" create -q -f qcow2 a.qcow2 4M &&
  "$qemu_img" create -q -f qcow2 -b a.qcow2 -F qcow2 b.qcow2 &&
  "$qemu_img" rebase -u -b b.qcow2 -F qcow2 a.qcow2 || { echo "FAIL: setup"; exit 1; }
expected="qemu-img: Could not open 'b.qcow2': Could not open backing file: Backing file 'b.qcow2' creates an infinite loop"
status=0
for op in "measure -O qcow2 b.qcow2" "measure -O raw b.qcow2" "measure -l snap1 b.qcow2" "map b.qcow2"; do
  # argv[0] is qemu-img, as a user of the drop-in replacement types it.
  ln -sf "$instar" qemu-img
  # shellcheck disable=SC2086
  err=$(INSTAR_SANDBOX=$sandbox timeout 60 ./qemu-img $op 2>&1 >/dev/null)
  rc=$?
  if [ "$rc" -ne 1 ] || [ "$err" != "$expected" ]; then
    echo "FAIL: $op: exit $rc, stderr: $err"
    status=1
  else
    echo "PASS: $op"
  fi
done
exit $status
