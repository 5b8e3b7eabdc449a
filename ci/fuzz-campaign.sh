#!/usr/bin/env bash
# fuzz-campaign.sh: runs fuzz targets with libFuzzer or AFL++, merges new coverage into a corpus, and turns
# each crash into a minimised regression input under corpora/regressions/fuzz/<target>/ (docs/fuzzing.md).
#
# Usage: ci/fuzz-campaign.sh [options] [target...]        (no target: every add_fuzzer() in fuzz-targets/)
#   --engine libfuzzer|afl  libfuzzer (default; the fuzz preset) or afl (the afl preset, plus a CMPLOG build)
#   --seconds N             per target (default 600)
#   --jobs N                processes per target: libFuzzer -fork=N, AFL++ one main (with CMPLOG) and N-1
#                           secondaries (default: the number of cores)
#   --corpus DIR            the corpus kept between runs, DIR/<target>/ (default build/fuzz-corpus; not
#                           committed: copy what is worth keeping into corpora/seeds/ by hand)
#   --build DIR             the build directory (default build/fuzz or build/afl; configured with the
#                           preset and built when it has no fuzzers yet)
#   --smoke                 CI: 20 s per target (unless --seconds), single-process runs, --jobs targets at a
#                           time, a throwaway corpus from the seeds; fails when anything crashes
# Exit status: 0 when no target crashed, 1 when one did (its input is then in corpora/regressions/fuzz/).
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$top"

engine=libfuzzer seconds="" jobs=$(nproc) corpus_root=build/fuzz-corpus build="" smoke=0 targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --engine) engine=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    --corpus) corpus_root=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    --smoke) smoke=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) echo "fuzz-campaign: unknown option $1" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
case "$engine" in libfuzzer | afl) ;; *) echo "fuzz-campaign: --engine libfuzzer or afl" >&2; exit 2 ;; esac
[ -n "$seconds" ] || seconds=$([ "$smoke" = 1 ] && echo 20 || echo 600)
[ "${#targets[@]}" -gt 0 ] || mapfile -t targets < <(sed -n 's/^add_fuzzer(NAME \([a-z0-9_]*\) .*/\1/p' fuzz-targets/CMakeLists.txt)
preset=$([ "$engine" = afl ] && echo afl || echo fuzz)
[ -n "$build" ] || build=build/$preset
bin=$build/fuzz-targets
# Not under /tmp: afl-cmin refuses to work there.
mkdir -p build
work=$(mktemp -d "$top/build/fuzz-campaign.XXXXXX")
trap 'rm -rf "$work"' EXIT

export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:symbolize=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
export ASAN_SYMBOLIZER_PATH=${ASAN_SYMBOLIZER_PATH:-$(command -v llvm-symbolizer-14 || command -v llvm-symbolizer || true)}
# No CPU pinning: the machine is shared with builds and other fuzzers.
export AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_UI=1 AFL_NO_AFFINITY=1
# AFL++'s tools refuse to run unless ASan aborts and does not symbolize.
afl_asan=abort_on_error=1:symbolize=0:detect_leaks=0

log() { echo "fuzz-campaign: $*" >&2; }

# Configures $1 with the preset (and extra cache settings) unless it is configured, and brings its fuzzers
# up to date.
ensure_build() {
  local dir=$1; shift
  if [ ! -f "$dir/CMakeCache.txt" ]; then
    log "configuring $dir"
    cmake --preset "$preset" -B "$dir" "$@" >/dev/null
  fi
  cmake --build "$dir" --target fuzzers >"$work/build.log" 2>&1 || { tail -30 "$work/build.log" >&2; exit 2; }
  local t
  for t in "${targets[@]}"; do
    [ -x "$dir/fuzz-targets/fuzz_$t" ] || { log "no fuzzer $dir/fuzz-targets/fuzz_$t"; exit 2; }
  done
}
ensure_build "$build"
if [ "$engine" = afl ]; then ensure_build "$build-cmplog" -DINSTAR_AFL_CMPLOG=ON; fi

# The crash signature: sanitizer kind (or invariant / signal / oom / timeout) and the top two frames of
# project code, from the report of running the input once.
signature() {
  local report=$1 kind frames
  kind=$(sed -n 's/.*ERROR: AddressSanitizer: \([a-z-]*\).*/\1/p; s/.*ERROR: libFuzzer: \([a-z-]*\).*/\1/p' "$report" | head -1)
  if grep -q 'runtime error:' "$report"; then kind=undefined-behaviour; fi
  if grep -q 'fuzz invariant violated' "$report"; then kind=invariant-$(sed -n 's/.*\/\([^/:]*\):\([0-9]*\): fuzz invariant violated.*/\1-\2/p' "$report" | head -1); fi
  [ -n "$kind" ] || kind=crash
  if [ "$kind" = deadly-signal ]; then kind=signal; fi
  # Frames "#n 0x... in function file:line" of the first stack, up to the harness's entry point; skip the
  # runtimes and the harness's trap.
  frames=$(sed -n 's/^ *#[0-9]* 0x[0-9a-f]* in \([^ (]*\).*/\1/p' "$report" | sed '/^LLVMFuzzerTestOneInput$/,$d' |
    grep -vE '^(__sanitizer|__asan|__ubsan|__lsan|__interceptor|fuzzer::|std::|__libc|_start|main$|LLVMFuzzerTestOneInput|instar::fuzz::invariant_failed|abort|raise|__GI_|gsignal|libc)' |
    sed 's/.*:://' | head -2 | paste -sd- -)
  echo "$kind${frames:+-$frames}" | tr -c 'A-Za-z0-9_.\n-' '-' | cut -c1-120
}

# Minimises crash $2 of target $1, names it by its signature and keeps it (once per signature).
promote() {
  local t=$1 crash=$2 min=$work/min-$t report=$work/report-$t name dest
  if [ "$engine" = afl ]; then
    ASAN_OPTIONS=$afl_asan afl-tmin -i "$crash" -o "$min" -- "$bin/fuzz_$t" >/dev/null 2>&1 || cp "$crash" "$min"
  else
    "$bin/fuzz_$t" -minimize_crash=1 -runs=20000 -max_total_time=60 -exact_artifact_path="$min" "$crash" >/dev/null 2>&1 || true
    [ -s "$min" ] || cp "$crash" "$min"
  fi
  "$bin/fuzz_$t" "$min" >"$report" 2>&1 || true
  name=$(signature "$report")
  dest=corpora/regressions/fuzz/$t/$name
  mkdir -p "corpora/regressions/fuzz/$t"
  if [ -e "$dest" ]; then
    log "$t: crash $name is already a regression; kept as $dest (not replaced)"
  else
    cp "$min" "$dest"
    log "$t: CRASH $name -> $dest"
    sed -n '/ERROR\|runtime error\|invariant violated/,+12p' "$report" | head -20 >&2
  fi
}

found=0

run_libfuzzer() {
  local t=$1 corpus=$2 forks=$3 art=$work/art-$t
  local args=(-max_total_time="$seconds" -rss_limit_mb=2048 -timeout=25 -print_final_stats=1 -artifact_prefix="$art/")
  if [ -f "$bin/fuzz_$t.dict" ]; then args+=(-dict="$bin/fuzz_$t.dict"); fi
  if [ "$forks" -gt 1 ]; then args+=(-fork="$forks" -ignore_crashes=1 -ignore_ooms=1 -ignore_timeouts=1); fi
  mkdir -p "$art" "$corpus"
  local seeds=()
  for d in corpora/seeds/$t corpora/regressions/fuzz/$t; do if [ -d "$d" ]; then seeds+=("$d"); fi; done
  "$bin/fuzz_$t" "$corpus" "${seeds[@]}" "${args[@]}" >"$work/$t.log" 2>&1 || true
  # The last status line (cov = edges, ft = features), and exec/s when libFuzzer prints its final stats.
  { grep -E '^#[0-9]+.*cov: ' "$work/$t.log" | tail -1
    grep -E 'stat::average_exec_per_sec' "$work/$t.log" || true; } | tr -s ' \t\n' ' ' | sed "s/^/$t: /" >&2
  echo >&2
}

run_afl() {
  local t=$1 corpus=$2 out=$work/afl-$t in=$work/in-$t i
  mkdir -p "$in" "$corpus"
  for d in "$corpus" corpora/seeds/$t corpora/regressions/fuzz/$t; do
    if [ -d "$d" ]; then find "$d" -maxdepth 1 -type f ! -name '.*' -size -1024k -exec cp -t "$in" {} +; fi
  done
  [ -n "$(ls -A "$in")" ] || printf '\0' >"$in/empty"
  local dict=()
  if [ -f "$bin/fuzz_$t.dict" ]; then dict=(-x "$bin/fuzz_$t.dict"); fi
  # Each instance in its own process group: afl-fuzz 4.04c can leave the CMPLOG fork server behind.
  local groups=()
  ASAN_OPTIONS=$afl_asan setsid afl-fuzz -M main -i "$in" -o "$out" -V "$seconds" "${dict[@]}" \
    -c "$build-cmplog/fuzz-targets/fuzz_$t" -- "$bin/fuzz_$t" >"$work/$t-main.log" 2>&1 &
  groups+=($!)
  for i in $(seq 2 "$jobs"); do
    ASAN_OPTIONS=$afl_asan setsid afl-fuzz -S "s$i" -i "$in" -o "$out" -V "$seconds" "${dict[@]}" \
      -- "$bin/fuzz_$t" >"$work/$t-s$i.log" 2>&1 &
    groups+=($!)
  done
  wait
  for i in "${groups[@]}"; do kill -KILL -- "-$i" 2>/dev/null || true; done
  if ! ls "$out"/*/fuzzer_stats >/dev/null 2>&1; then
    log "$t: afl-fuzz did not start:"; tail -20 "$work/$t-main.log" >&2; return
  fi
  { grep -hE '^(execs_done|execs_per_sec|edges_found|saved_crashes)' "$out"/*/fuzzer_stats || true; } |
    tr -s ' \n' ' ' | sed "s/^/$t: /" >&2
  echo >&2
  # New coverage into the corpus: everything queued, minimised with afl-cmin.
  mkdir -p "$work/queue-$t"
  find "$out"/*/queue "$corpus" -maxdepth 1 -type f -exec cp --backup=numbered -t "$work/queue-$t" {} + 2>/dev/null || true
  if ASAN_OPTIONS=$afl_asan afl-cmin -i "$work/queue-$t" -o "$work/cmin-$t" -- "$bin/fuzz_$t" >/dev/null 2>&1; then
    rm -rf "$corpus" && mv "$work/cmin-$t" "$corpus"
  fi
  mkdir -p "$work/art-$t"
  find "$out"/*/crashes -type f -name 'id:*' -exec cp --backup=numbered -t "$work/art-$t" {} + 2>/dev/null || true
}

# Crashes left in $work/art-<t>/ become regressions.
collect() {
  local t=$1 c
  for c in "$work/art-$t"/*; do
    [ -f "$c" ] || continue
    found=1
    promote "$t" "$c"
  done
}

if [ "$smoke" = 1 ]; then
  # Targets side by side, one process each, each from the seeds into a throwaway corpus.
  [ "$engine" = libfuzzer ] || { log "--smoke runs libFuzzer only"; exit 2; }
  start=$(date +%s)
  running=0
  for t in "${targets[@]}"; do
    run_libfuzzer "$t" "$work/corpus-$t" 1 &
    running=$((running + 1))
    if [ "$running" -ge "$jobs" ]; then wait -n || true; running=$((running - 1)); fi
  done
  wait
  for t in "${targets[@]}"; do collect "$t"; done
  log "smoke: ${#targets[@]} targets x ${seconds}s in $(($(date +%s) - start))s, $([ $found = 1 ] && echo CRASHED || echo no crashes)"
  exit $found
fi

for t in "${targets[@]}"; do
  corpus=$corpus_root/$t
  log "$t: $engine, ${seconds}s, $jobs jobs, corpus $corpus"
  if [ "$engine" = afl ]; then
    run_afl "$t" "$corpus"
  else
    run_libfuzzer "$t" "$corpus" "$jobs"
    # Keep the corpus minimal: merge it into a fresh directory.
    mkdir -p "$work/merged-$t"
    if "$bin/fuzz_$t" -merge=1 -rss_limit_mb=2048 "$work/merged-$t" "$corpus" >/dev/null 2>&1; then
      rm -rf "$corpus" && mv "$work/merged-$t" "$corpus"
    fi
  fi
  log "$t: corpus now $(find "$corpus" -type f | wc -l) files"
  collect "$t"
done
exit $found
