#!/bin/sh
# fuzz.sh: run one libFuzzer target for SECONDS (`make fuzz` runs each in turn) on a scratch
# corpus in the build tree's tests/fuzz/out/TARGET, seeded from tests/fuzz/TARGET.seeds, and
# print what it did. Crash, leak and timeout inputs land in that directory too.
# Usage: fuzz.sh TARGET SECONDS [libFuzzer flags...]
set -u
[ $# -ge 2 ] || { echo "usage: fuzz.sh TARGET SECONDS [libFuzzer flags...]" >&2; exit 2; }
target=$1 seconds=$2
shift 2
top_src=${TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
top_build=${TOP_BUILDDIR:-$top_src}
fuzzer=$top_build/tests/fuzz/fuzz_$target
out=$top_build/tests/fuzz/out/$target
mkdir -p "$out/corpus" || exit 1

# Seeds keep their source path in their name (seed-scenarios_32b_zero3.yaml), so a seed that
# crashes is recognisable; inputs libFuzzer adds are named by their SHA-1. The corpus grows
# across runs until `make clean`.
seeds=0
while read -r pattern; do
  case $pattern in '' | '#'*) continue ;; esac
  for f in "$top_src"/$pattern; do
    [ -f "$f" ] || continue
    rel=${f#"$top_src"/}
    cp "$f" "$out/corpus/seed-$(echo "$rel" | tr / _)" || exit 1
    seeds=$((seeds + 1))
  done
done <"$top_src/tests/fuzz/$target.seeds"

# A scenario is mostly key names, enum words and preset names the fuzzer would take long to
# guess; the schema table lists them (dssim --help-keys), the preset directories the rest.
dict=
if [ "$target" = scenario ] || [ "$target" = sweep ]; then
  keys=$("$top_build/dssim" --help-keys) || exit 1
  {
    echo "$keys" | sed -n -e 's/^  \([a-z_.]*\) .*/\1/p' -e 's/^\([a-z_.]*\):  .*/\1/p' |
      sed 's/.*\.//'
    echo "$keys" | sed -n 's/.* one of \([^;]*\);.*/\1/p' | tr ',' '\n' | tr -d ' '
    for f in "$top_src"/topologies/*/*.yaml "$top_src"/scenarios/models/*.yaml; do
      basename "$f" .yaml
    done
    # The words of a sweep spec (sim/sweep.c).
    [ "$target" = sweep ] && printf '%s\n' base axes where auto values range step log2 strategy
    true
  } | sort -u | sed -n 's/^\(..*\)$/"\1"/p' >"$out/$target.dict"
  dict=-dict=$out/$target.dict
fi

echo "fuzz_$target: $seconds s from $seeds seeds; log: $out/fuzz.log"
start=$(date +%s)
DSSIM_DATA=$top_src "$fuzzer" -max_total_time="$seconds" -timeout=25 -print_final_stats=1 \
  -artifact_prefix="$out/" $dict "$@" "$out/corpus" >"$out/fuzz.log" 2>&1
status=$?
elapsed=$(($(date +%s) - start))

runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/fuzz.log")
rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$out/fuzz.log")
cov=$(grep -E '^#[0-9]+' "$out/fuzz.log" | tail -1 |
  sed -n 's/.*\(cov: [0-9]* ft: [0-9]* corp: [^ ]*\).*/\1/p')
echo "fuzz_$target: ${runs:-?} executions in $elapsed s, ${rate:-?} exec/s," \
  "${cov:-no coverage line}"
if [ "$status" -ne 0 ]; then
  echo "FAIL fuzz_$target exited $status; the report:"
  report='^==[0-9]+==ERROR|runtime error|^ALARM|deadly signal'
  if grep -qE "$report" "$out/fuzz.log"; then
    grep -E -A40 "$report" "$out/fuzz.log" | head -80
  else
    tail -20 "$out/fuzz.log"
  fi
  ls "$out"/crash-* "$out"/leak-* "$out"/timeout-* "$out"/oom-* 2>/dev/null
  echo "reproduce: DSSIM_DATA=$top_src $fuzzer INPUT"
  exit 1
fi
