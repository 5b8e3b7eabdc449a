#!/usr/bin/env bash
# demo.sh: the main job: builds instar, shows `instar info` beside `qemu-img
# info` on a few generated images, then runs a one-minute instar-diff campaign
# against qemu-img on random images and prints its triage summary.
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$top"
./ci/install-deps.sh >/dev/null
cmake --preset default >/dev/null
cmake --build --preset default >/dev/null
instar="$top/build/default/cli/instar"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
qemu-img create -q -f raw disk.raw 10M
qemu-img create -q -f qcow2 base.qcow2 64M
qemu-img create -q -f qcow2 -b base.qcow2 -F qcow2 overlay.qcow2
qemu-img create -q -f qcow2 -o compat=0.10,cluster_size=4096 old.qcow2 1G
qemu-img snapshot -c first overlay.qcow2
status=0
for image in disk.raw base.qcow2 overlay.qcow2 old.qcow2; do
  for output in human json; do
    reference=$(qemu-img info --output=$output "$image" 2>&1)
    ours=$("$instar" info --output=$output "$image" 2>&1)
    echo "=== info --output=$output $image"
    paste <(echo "$reference") <(echo "$ours") | awk -F'\t' '{ printf "%-60s | %s\n", $1, $2 }'
    if [ "$reference" == "$ours" ]; then echo "--- identical"; else echo "--- DIFFERENT"; status=1; fi
  done
done
cd "$top"
echo "=== instar-diff campaign: 60 s of random info programs against qemu-img (--jobs 2)"
out="$top/build/diff-campaign"
rm -rf "$out"
build/default/differential/instar-diff run --reference "$(command -v qemu-img)" --subject "$instar" \
  --seed "${INSTAR_DEMO_SEED:-1}" --jobs 2 --time-budget 60 --out "$out" || true
build/default/differential/instar-diff triage --format html --output "$out/triage.html" "$out/reports" >/dev/null 2>&1 &&
  echo "triage page: $out/triage.html"
exit $status
