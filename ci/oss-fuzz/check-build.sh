#!/usr/bin/env bash
# check-build.sh: runs ci/oss-fuzz/build.sh here as OSS-Fuzz would (clang-14, ASan, libFuzzer; $SRC, $WORK
# and $OUT temporary), then runs every fuzzer it left in $OUT over its seed corpus zip with its options.
# ctest runs it as fuzz/oss-fuzz/build (label fuzz); it needs clang-14, ninja and zip / unzip.
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/src" "$tmp/work" "$tmp/out"
ln -s "$top" "$tmp/src/instar"

# What OSS-Fuzz's base-clang image sets for an ASan libFuzzer build (less -stdlib=libc++, which
# Debian's clang-14 has no library for).
flags="-O1 -fno-omit-frame-pointer -gline-tables-only -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION \
-fsanitize=address -fsanitize-address-use-after-scope -fsanitize=fuzzer-no-link ${INSTAR_OSS_FUZZ_EXTRA_FLAGS:-}"
env -i PATH="$PATH" HOME="$tmp" SRC="$tmp/src" WORK="$tmp/work" OUT="$tmp/out" \
  CC=clang-14 CXX=clang++-14 CFLAGS="$flags" CXXFLAGS="$flags" LIB_FUZZING_ENGINE=-fsanitize=fuzzer \
  FUZZING_ENGINE=libfuzzer SANITIZER=address ARCHITECTURE=x86_64 \
  bash "$top/ci/oss-fuzz/build.sh" >"$tmp/build.log" 2>&1 || { tail -40 "$tmp/build.log"; exit 1; }
ls "$tmp/out" >&2

count=0
for fuzzer in "$tmp"/out/fuzz_*; do
  case "$fuzzer" in *.zip | *.dict | *.options) continue ;; esac
  name=$(basename "$fuzzer")
  zip="$tmp/out/${name}_seed_corpus.zip"
  [ -f "$zip" ] || { echo "check-build: $name has no seed corpus zip" >&2; exit 1; }
  mkdir "$tmp/corpus-$name"
  unzip -q "$zip" -d "$tmp/corpus-$name"
  # The options file, as ClusterFuzz turns it into flags (only dict = here).
  args=()
  if [ -f "$fuzzer.options" ]; then
    dict=$(sed -n 's/^dict = //p' "$fuzzer.options")
    [ -z "$dict" ] || args+=(-dict="$tmp/out/$dict")
  fi
  if ! (cd "$tmp/out" && "$fuzzer" "${args[@]}" -runs=0 "$tmp/corpus-$name") >"$tmp/$name.log" 2>&1; then
    tail -30 "$tmp/$name.log"
    echo "check-build: $name failed on its seed corpus" >&2
    exit 1
  fi
  echo "check-build: $name: $(unzip -Z1 "$zip" | wc -l) seeds, $(grep -o 'INITED cov: [0-9]*' "$tmp/$name.log" | head -1)"
  count=$((count + 1))
done
[ "$count" -gt 0 ] || { echo "check-build: build.sh left no fuzzer in \$OUT" >&2; exit 1; }
echo "check-build: $count fuzzers run on their seeds"
