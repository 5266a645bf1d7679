// The entry of the V8 start-up snapshot of `mptcp-policy check` (scripts/build-snapshot.mjs
// runs it under `node --build-snapshot`). Building the snapshot runs the checker once,
// so the lexer's and parser's set-up (Chevrotain's grammar analysis, most of the start-up
// of `check`) is already done in the heap that `node --snapshot-blob` starts from;
// bin/mptcp-policy starts `check` that way when the snapshot was built by the same node.
import { startupSnapshot } from "node:v8";
import { compilePolicy } from "../../compiler/pipeline.js";
import { checkCommand } from "./check-command.js";
import { dispatch, exitWith } from "./dispatch.js";

/** One policy with every kind of statement and a mistake: each part of the checker runs once. */
const WARM_UP = `interface wifi = "wlan0"
interface lte = "wwan0", "usb*"
limits subflows 4 add_addr_accepted 2
endpoint wifi subflow
isolate wifi
on established if iface wifi and remote port 443 then create via lte backup retry 3
on subflow_closed if iface lte and error timeout and subflows < 4 then create via lte after 2s
on announced if remote in (192.0.2.0/24, 2001:db8:100::/48) then create via wifi to announced
on iface_down wifi then set lte active, log "wifi down"
mptcp for program "curl" and not user 0
scheduler prefer_wifi {
  use where iface wifi and rtt < 150ms and not stale
  use any
}
on bogus if then
`;

compilePolicy([{ name: "warm-up.policy", text: WARM_UP }], { model: false });

startupSnapshot.setDeserializeMainFunction(() => {
  // Started as `node --snapshot-blob BLOB check ARGS...`: argv is [node, "check", ARGS...].
  void exitWith(() => dispatch(checkCommand, process.argv.slice(2)));
});
