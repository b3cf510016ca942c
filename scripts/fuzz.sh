#!/usr/bin/env bash
# Builds muse-fuzz with libFuzzer and AddressSanitizer (its own build folder, .build-fuzz) and runs
# each target for SECONDS (default 60): json (the strict JSON parser and decoder), router (the
# request-path parser and the router), result (a worker's result: decoding, checks, PNG header),
# image (an upload's bytes: the PNG chunk and JPEG segment walk).
# Seeds are Tests/Fuzz/regressions/<target>/; a crash is copied there (so FuzzRegressionTests
# replays it from then on) and the script fails. Prints executions per target.
#   scripts/fuzz.sh [SECONDS] [TARGET…]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "$MUSE_ROOT"
ensure_apt_packages "${MUSE_BUILD_PACKAGES[@]}"
ensure_swift

seconds="${1:-60}"
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(json router result image)

flags=(--scratch-path .build-fuzz --sanitize=fuzzer --sanitize=address -Xswiftc -DFUZZING)
swift build "${flags[@]}" --product muse-fuzz >&2
fuzzer="$(swift build "${flags[@]}" --show-bin-path)/muse-fuzz"

status=0
for target in "${targets[@]}"; do
  corpus=".build-fuzz/corpus/$target"
  crashes=".build-fuzz/crashes/$target"
  mkdir -p "$corpus" "$crashes"
  cp -n Tests/Fuzz/regressions/"$target"/* "$corpus"/ 2>/dev/null || true
  log=".build-fuzz/$target.log"
  rc=0
  MUSE_FUZZ_TARGET="$target" "$fuzzer" "$corpus" -max_total_time="$seconds" -max_len=262144 -rss_limit_mb=4096 -timeout=10 \
    -print_final_stats=1 -artifact_prefix="$crashes/" >"$log" 2>&1 || rc=$?
  runs="$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)"
  echo "fuzz $target: $runs executions in ${seconds} s"
  if [ "$rc" -ne 0 ]; then
    status=1
    echo "fuzz $target FAILED (exit $rc); the input is kept in Tests/Fuzz/regressions/$target/:" >&2
    grep -E "ERROR|Fatal|SUMMARY|==[0-9]+==" "$log" | head -20 >&2 || tail -30 "$log" >&2
    for found in "$crashes"/*; do
      [ -f "$found" ] && cp "$found" "Tests/Fuzz/regressions/$target/$(basename "$found")"
    done
  fi
done
exit $status
