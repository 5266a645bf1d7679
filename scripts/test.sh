#!/usr/bin/env bash
# Sets everything up and runs the whole test suite: type check, vitest on this
# machine's kernel and, at the same time, the live suites again on each Debian kernel
# of the lab (scripts/vm.sh matrix; docs/kernels.md). MPTCP_POLICY_TEST_SEQUENTIAL=1
# runs the matrix after this machine's suite instead.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
npx tsc -p tsconfig.json
# The playground (browser code): DOM types, no Node types.
npx tsc -p editor/tsconfig.json
report=$(mktemp)
matrix=$(mktemp)
matrix_log=$(mktemp)
matrix_pid=""
cleanup() {
  # Interrupted: the matrix and its guests (its own process group) end with this run.
  if [ -n "$matrix_pid" ]; then kill -- "-$matrix_pid" 2>/dev/null || true; fi
  rm -f "$report" "$matrix" "$matrix_log"
}
trap cleanup EXIT
status=0
echo '{"kernels":[]}' >"$matrix"
# The kernel matrix (unless only some tests were asked for: arguments are vitest
# filters) runs beside this machine's suite: the guests keep both CPUs busy while
# this suite waits on its namespaces. What both run is built first, once.
if [ "$#" -eq 0 ]; then
  node scripts/build.mjs
  bash scripts/build-deb.sh >/dev/null
  bash scripts/vm.sh kernels
  export MPTCP_POLICY_PREBUILT=1
  if [ "${MPTCP_POLICY_TEST_SEQUENTIAL:-0}" = 1 ]; then
    npx vitest run --reporter=default --reporter=json --outputFile.json="$report" || status=$?
    bash scripts/vm.sh matrix --json "$matrix" || status=1
  else
    setsid bash scripts/vm.sh matrix --json "$matrix" >"$matrix_log" 2>&1 &
    matrix_pid=$!
    npx vitest run --reporter=default --reporter=json --outputFile.json="$report" || status=$?
    echo "test: this machine's suite is done; waiting for the kernel matrix"
    wait "$matrix_pid" || status=1
    matrix_pid=""
    cat "$matrix_log"
  fi
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
  for (const k of m) console.log(`kernel ${k.name} (${k.release}): ${k.scenarios.filter((s) => s.result === "pass").length} pass, ${k.scenarios.filter((s) => s.result === "unsupported").length} unsupported, ${k.scenarios.filter((s) => s.result === "fail").length} fail in ${k.seconds} s`);
  console.log(`tests: ${r.numPassedTests + n("pass")} passed, ${r.numFailedTests + n("fail")} failed, ${r.numPendingTests + r.numTodoTests + n("unsupported")} skipped`);
' "$report" "$matrix" || true
exit "$status"
