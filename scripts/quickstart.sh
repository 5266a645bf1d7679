#!/usr/bin/env bash
# Sets everything up and runs the main job on a bundled example: check the laptop
# policy, show what mistakes look like, then enforce the policy with the daemon on
# a two-link namespace lab and watch the kernel open the subflow a rule asked for.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
example=examples/laptop-wifi-lte
echo "== mptcp-policy check $example"
bin/mptcp-policy check "$example" && echo "ok: no errors"
echo
echo "== a policy with mistakes (test/fixtures/broken.policy)"
bin/mptcp-policy check test/fixtures/broken.policy || true
echo
echo "== mptcp-policy check examples/ && mptcp-policy fmt --check examples/"
bin/mptcp-policy check examples/ && bin/mptcp-policy fmt --check examples/ && echo "ok: every example is clean and formatted"
bash scripts/demo.sh
