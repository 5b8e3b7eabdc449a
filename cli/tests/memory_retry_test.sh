#!/bin/sh
# memory_retry_test.sh: the kvm sandbox starts a process's first run with 128 MiB of guest memory and
# runs again with the whole --sandbox-memory limit when core ran out (cli/sandbox/kvm_sandbox.cc).
# A chain of ten qcow2 images with 2 MiB clusters needs more than 128 MiB (each layer keeps 8 L2 tables
# and a refcount block of one cluster each): map must match qemu-img with the default limit, and fail
# with core's "Cannot allocate memory" when the limit is 128 MiB, which shows the first run alone fails.
# Usage: memory_retry_test.sh INSTAR QEMU_IMG
set -u
instar=$1 qemu_img=$2
[ -x "$qemu_img" ] || { echo "SKIP: $qemu_img is missing"; exit 77; }
[ -w /dev/kvm ] || { echo "SKIP: /dev/kvm is not usable here"; exit 77; }
dir=$(mktemp -d "${TMPDIR:-/tmp}/instar-memory-XXXXXX") || exit 1
trap 'rm -rf "$dir"' EXIT
cd "$dir" || exit 1
"$qemu_img" create -q -f qcow2 -o cluster_size=2M l0.qcow2 1G || { echo "FAIL: setup"; exit 1; }
for i in 1 2 3 4 5 6 7 8 9; do
  "$qemu_img" create -q -f qcow2 -o cluster_size=2M -b "l$((i - 1)).qcow2" -F qcow2 "l$i.qcow2" 1G ||
    { echo "FAIL: setup"; exit 1; }
done
expected=$("$qemu_img" map --output=json l9.qcow2) || { echo "FAIL: qemu-img map"; exit 1; }
status=0
got=$("$instar" map --sandbox=kvm --output=json l9.qcow2 2>&1)
if [ "$got" = "$expected" ]; then echo "PASS: map with the default limit"; else echo "FAIL: map: $got"; status=1; fi
err=$("$instar" map --sandbox=kvm --sandbox-memory=128 --output=json l9.qcow2 2>&1 >/dev/null)
case "$err" in
  *"Cannot allocate memory"*) echo "PASS: 128 MiB is not enough" ;;
  *) echo "FAIL: with 128 MiB: $err"; status=1 ;;
esac
exit $status
