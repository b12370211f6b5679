#!/usr/bin/env bash
# Prints `tests: N passed, N failed` from a `deno test` log (its `ok | …` or `FAILED | …` line).
# A log without a summary line (the run died before finishing) counts as one failure.
log="${1:?usage: test_summary.sh LOG}"
line=$(grep -E '^(ok|FAILED) \| [0-9]+ passed' "$log" | tail -n 1)
if [ -z "$line" ]; then
  echo "tests: 0 passed, 1 failed"
  exit 0
fi
passed=$(sed -nE 's/^(ok|FAILED) \| ([0-9]+) passed.*/\2/p' <<<"$line")
failed=$(sed -nE 's/.*\| ([0-9]+) failed.*/\1/p' <<<"$line")
echo "tests: ${passed:-0} passed, ${failed:-0} failed"
