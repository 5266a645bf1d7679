#!/usr/bin/env bash
# The main job, end to end, on this machine's kernel: a two-link lab (a laptop and
# a server in their own network namespaces, joined by a Wi-Fi-like link wlan0 and an
# LTE-like link wwan0), the daemon enforcing examples/laptop-wifi-lte/ on the laptop,
# an MPTCP connection to port 443, the rule firing, the backup subflow the kernel
# opened, then Wi-Fi blackholed (up, but nothing gets through: the daemon notices the
# stall and LTE takes over) and back, then Wi-Fi going down. Everything is removed at the end (and on Ctrl-C).
# Needs root and a built CLI (bash scripts/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

laptop="mpdemo-$$-laptop"
server="mpdemo-$$-server"
work=$(mktemp -d)
pids=()

cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  ip netns del "$laptop" 2>/dev/null || true
  ip netns del "$server" 2>/dev/null || true
  [ -n "${KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT INT TERM

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
in_laptop() { ip netns exec "$laptop" "$@"; }
# The path manager's sysctl: net.mptcp.path_manager (6.15+) or net.mptcp.pm_type.
path_manager() {
  if [ -e /proc/sys/net/mptcp/path_manager ]; then echo "net.mptcp.path_manager = $(in_laptop sysctl -n net.mptcp.path_manager)"
  else echo "net.mptcp.pm_type = $(in_laptop sysctl -n net.mptcp.pm_type)"; fi
}
in_server() { ip netns exec "$server" "$@"; }

step "A laptop and a server, joined by wlan0 (10.0.1.0/24) and wwan0 (10.0.2.0/24)"
ip netns add "$laptop"
ip netns add "$server"
n=1
for dev in wlan0 wwan0; do
  ip link add "$dev" netns "$laptop" type veth peer name "$dev" netns "$server"
  ip -n "$laptop" addr add "10.0.$n.1/24" dev "$dev"
  ip -n "$server" addr add "10.0.$n.2/24" dev "$dev"
  ip -n "$laptop" link set "$dev" up
  ip -n "$server" link set "$dev" up
  n=$((n + 1))
done
ip -n "$laptop" link set lo up
ip -n "$server" link set lo up
# The server accepts the subflows the laptop opens.
ip -n "$server" mptcp limits set subflows 8 add_addr_accepted 8
ip -n "$laptop" -brief addr show

step "The policy: examples/laptop-wifi-lte/ (mptcp-policy explain, first lines)"
policy="$work/policy"
mkdir -m 755 "$policy"
install -m 644 examples/laptop-wifi-lte/*.policy "$policy/"
bin/mptcp-policy explain "$policy" | head -4

step "The daemon starts in the laptop's namespace (log: $work/daemon.log)"
ip netns exec "$laptop" bin/mptcp-policy run --config "$policy" --log-level info >"$work/daemon.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do grep -q '"msg":"running"' "$work/daemon.log" && break; sleep 0.1; done
grep -q '"msg":"running"' "$work/daemon.log" || { cat "$work/daemon.log"; exit 1; }
path_manager
# What this kernel cannot honour, one warning per policy line (none on recent kernels).
grep '"feature":' "$work/daemon.log" | node -e '
  for (const line of require("fs").readFileSync(0, "utf8").trim().split("\n").filter(Boolean)) console.log(`warning: ${JSON.parse(line).msg}`);' || true

step "An MPTCP connection from the laptop to the server's port 443, over wlan0"
# The peers quit at the end of their standard input: each reads a pipe held open here.
mkfifo "$work/server.in" "$work/client.in"
ip netns exec "$server" python3 test/lab/mptcp_peer.py server --port 443 <"$work/server.in" >"$work/server.log" 2>&1 &
pids+=($!)
exec 4>"$work/server.in"
for _ in $(seq 50); do grep -q listening "$work/server.log" && break; sleep 0.1; done
ip netns exec "$laptop" python3 test/lab/mptcp_peer.py client --address 10.0.1.2 --port 443 <"$work/client.in" >"$work/client.log" 2>&1 &
pids+=($!)
exec 3>"$work/client.in"
echo "send 1000" >&3
for _ in $(seq 50); do grep -q connected "$work/client.log" && break; sleep 0.1; done
cat "$work/client.log"
sleep 1

step "The rule that fired (the daemon's log)"
grep -E '"request":"SUBFLOW_CREATE' "$work/daemon.log" | node -e '
  for (const line of require("fs").readFileSync(0, "utf8").trim().split("\n")) {
    const l = JSON.parse(line);
    console.log(`${l.rule}: on ${l.event} -> ${l.request} (${l.result}, ${l.latency_ms} ms after the event)`);
  }'

step "What the kernel reports: mptcp-policy status in the laptop's namespace"
in_laptop bin/mptcp-policy status

step "Wi-Fi stays up but nothing gets through (a blackhole): the daemon notices the stalled subflow and makes Wi-Fi a backup"
# Packets over wlan0 vanish as they arrive at either end; the kernel sends no event for that.
for ns in "$laptop" "$server"; do
  printf 'add table inet demo\nadd chain inet demo in { type filter hook prerouting priority -300; }\nadd rule inet demo in iifname "wlan0" drop\n' |
    ip netns exec "$ns" nft -f -
done
echo "send 4000000" >&3
for _ in $(seq 50); do grep -q '"msg":"subflow stale' "$work/daemon.log" && break; sleep 0.1; done
show_rules() {
  grep -E "$1" "$work/daemon.log" | node -e '
    for (const line of require("fs").readFileSync(0, "utf8").trim().split("\n").filter(Boolean)) {
      const l = JSON.parse(line);
      console.log(l.rule ? `${l.rule}: on ${l.event} -> ${l.request ?? l.msg} (${l.result})` : `${l.msg} (${l.iface}, ${l.stalled_ms} ms without progress)`);
    }'
}
show_rules '"msg":"subflow stale|"event":"subflow_stale"'
in_laptop bin/mptcp-policy status | sed -n '/connections/,$p'

step "Wi-Fi gets through again: the daemon sees progress and Wi-Fi carries the traffic again"
for ns in "$laptop" "$server"; do ip netns exec "$ns" nft delete table inet demo; done
for _ in $(seq 150); do grep -q '"msg":"subflow recovered' "$work/daemon.log" && break; sleep 0.1; done
show_rules '"msg":"subflow recovered|"event":"subflow_recovered"'

step "Wi-Fi goes down: the rule 'on iface_down wifi' makes the LTE subflow active"
ip -n "$laptop" link set wlan0 down
sleep 1
grep -E '"event":"iface_down"' "$work/daemon.log" | node -e '
  for (const line of require("fs").readFileSync(0, "utf8").trim().split("\n")) {
    const l = JSON.parse(line);
    console.log(`${l.rule}: on ${l.event} -> ${l.request ?? l.msg} (${l.result})`);
  }'
in_laptop bin/mptcp-policy status | sed -n '/connections/,$p'

step "The daemon stops (SIGTERM) and restores the path manager it found"
exec 3>&- 4>&-
kill "${pids[0]}"
wait "${pids[0]}" && echo "daemon exited with status 0"
path_manager
