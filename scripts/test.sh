#!/usr/bin/env bash
# Sets everything up and runs the whole test suite: type check, vitest on this
# machine's kernel, then the live suites again on each Debian kernel of the lab
# (scripts/vm.sh matrix; docs/kernels.md).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
npx tsc -p tsconfig.json
# The playground (browser code): DOM types, no Node types.
npx tsc -p editor/tsconfig.json
report=$(mktemp)
matrix=$(mktemp)
trap 'rm -f "$report" "$matrix"' EXIT
status=0
echo '{"kernels":[]}' >"$matrix"
# Arguments are vitest filters: then only those files run, without the kernel matrix.
if [ "$#" -eq 0 ]; then
  # One after the other: guests beside this suite starved it (1427 s instead of about
  # 350 s, and its timing tests failed), and the total work stays the same.
  # Two files at a time on this 2-core machine (vitest would take one worker): 216 s
  # instead of 349 s, every test passing (2026-12-07).
  npx vitest run --maxWorkers=2 --reporter=default --reporter=json --outputFile.json="$report" || status=$?
  bash scripts/vm.sh kernels
  bash scripts/vm.sh matrix --json "$matrix" || status=1
else
  npx vitest run --reporter=default --reporter=json --outputFile.json="$report" "$@" || status=$?
fi
# One plain closing line that any CI reads the same way: this kernel's tests and the
# matrix's scenarios (unsupported ones, each with its reason, count as skipped).
node -e '
  const fs = require("fs");
  const r = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
  const m = JSON.parse(fs.readFileSync(process.argv[2], "utf8")).kernels;
  const n = (result) => m.reduce((sum, k) => sum + k.scenarios.filter((s) => s.result === result).length, 0);
  // Failures last, beside the totals: a CI log that keeps only its tail still names them.
  for (const f of r.testResults) for (const t of f.assertionResults.filter((a) => a.status === "failed"))
    console.log(`FAILED ${f.name.slice(process.cwd().length + 1)}: ${t.fullName}: ${(t.failureMessages[0] ?? "").split("\n")[0].slice(0, 300)}`);
  for (const k of m) for (const s of k.scenarios.filter((x) => x.result === "fail")) console.log(`FAILED kernel ${k.name}: ${s.name}: ${s.detail ?? ""}`);
  for (const f of r.testResults) if (f.status === "failed" && f.message) console.log(`FAILED ${f.name.slice(process.cwd().length + 1)}: ${f.message.split("\n")[0].slice(0, 300)}`);
  for (const k of m) console.log(`kernel ${k.name} (${k.release}): ${k.scenarios.filter((s) => s.result === "pass").length} pass, ${k.scenarios.filter((s) => s.result === "unsupported").length} unsupported, ${k.scenarios.filter((s) => s.result === "fail").length} fail in ${k.seconds} s`);
  console.log(`tests: ${r.numPassedTests + n("pass")} passed, ${r.numFailedTests + n("fail")} failed, ${r.numPendingTests + r.numTodoTests + n("unsupported")} skipped`);
' "$report" "$matrix" || true
exit "$status"
