#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine (as root) or refreshes an existing checkout:
# system packages, npm packages, and the built CLI. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

# System packages the project and its tests use (python3, g++ and make: the test
# lab's MPTCP peers, and node-gyp rebuilding the patched netlink addon).
# The kernel lab (scripts/vm.sh): qemu, busybox-static, kmod, cpio, xz-utils, zstd; ping for its netem test.
# Faults in the lab (blackholes, loss without netem): nftables. The failover benchmark's comparison: mptcpd.
APT_PACKAGES=(iproute2 ca-certificates chromium fonts-dejavu-core clang-19 llvm-19 bpftool libbpf-dev gcc libc6-dev python3 g++ make
  neovim vim vim-ale  # test/neovim.test.ts, test/lsp-vim.test.ts: Debian's Neovim (0.7) and Vim with ALE as clients of mptcp-policy lsp
  qemu-system-x86 busybox-static kmod cpio xz-utils zstd iputils-ping
  nftables mptcpd mptcpd-plugins
  ethtool  # scripts/bench-daemon.mjs: GRO and threaded NAPI on the lab's veth links
  prometheus  # test/metrics-prometheus.test.ts: a real Prometheus scrapes `run --metrics`
  lintian man-db bash-completion ansible python3-apt)  # the Debian package (scripts/build-deb.sh), its install test, examples/ansible (its apt tasks)

missing=()
for package in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: need root to install: ${missing[*]}" >&2
    exit 1
  fi
  echo "setup: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 20 ]; then
  echo "setup: Node.js 20 or newer is needed (found: $(node --version 2>/dev/null || echo none))" >&2
  exit 1
fi

# npm ci only when the lock file or a patch (patches/, applied by postinstall)
# changed since the last install.
stamp=node_modules/.package-lock.json
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ] || [ -n "$(find patches -newer "$stamp" -print -quit 2>/dev/null)" ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
# Everything a user runs: the CLI bundle (and its BPF helper) and the web playground
# (editor/) as static files in dist/playground/.
npm run --silent build
