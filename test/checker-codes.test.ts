// Every diagnostic code: one input that must produce it and a close one that must
// not (nft-style golden table, kept small and read in review).
import { describe, expect, it } from "vitest";
import { CODES, type Code } from "../language/codes.js";
import { diagnose } from "./helpers.js";

const DECLS = `interface wifi = "wlan0"\ninterface lte = "wwan0", "usb*"\nendpoint wifi subflow\nendpoint lte subflow backup\n`;

interface Case {
  readonly bad: string;
  readonly good: string;
}

const CASES: Record<Code, Case> = {
  E001: { bad: `${DECLS}on established then log "x" @`, good: `${DECLS}on established then log "x" # @` },
  E002: { bad: `${DECLS}on established then log "x`, good: `${DECLS}on established then log "x"` },
  E003: { bad: `${DECLS}on established if then log "x"`, good: `${DECLS}on established then log "x"` },
  E004: { bad: `${DECLS}on established if ${"(".repeat(40)}backup${")".repeat(40)} then log "x"`, good: `${DECLS}on established if ${"(".repeat(30)}backup${")".repeat(30)} then log "x"` },
  E005: { bad: `${DECLS}${"on bogus then log \"x\"\n".repeat(120)}`, good: `${DECLS}${"on established then log \"x\"\n".repeat(1)}` },
  E100: { bad: `${DECLS}on established then create via wfi`, good: `${DECLS}on established then create via wifi` },
  E101: { bad: `${DECLS}interface wifi = "wlan1"`, good: `${DECLS}` },
  E102: { bad: `${DECLS}scheduler a { use any }\nscheduler a for remote port 1 { use any }`, good: `${DECLS}scheduler a { use any }\nscheduler b for remote port 1 { use any }` },
  E103: { bad: `interface Wifi = "wlan0"\nendpoint Wifi subflow`, good: `interface wifi = "wlan0"\nendpoint wifi subflow` },
  E104: { bad: `${DECLS}scheduler sixteen_chars_xx { use any }`, good: `${DECLS}scheduler fifteen_chars_x { use any }` },
  E105: { bad: `interface wifi = "wlan/0"\nendpoint wifi subflow`, good: `interface wifi = "wlan[0-3]"\nendpoint wifi subflow` },
  E200: { bad: `${DECLS}on establshed then log "x"`, good: `${DECLS}on established then log "x"` },
  E201: { bad: `${DECLS}on established if error timeout then log "x"`, good: `${DECLS}on subflow_closed if error timeout then log "x"` },
  E202: { bad: `${DECLS}on established wifi then log "x"`, good: `${DECLS}on iface_up wifi then log "x"` },
  E203: { bad: `${DECLS}on subflow_closed if error timeot then log "x"`, good: `${DECLS}on subflow_closed if error 110 then log "x"` },
  E204: { bad: `${DECLS}on established if stal then log "x"`, good: `${DECLS}scheduler s { use where not stale }` },
  E205: { bad: `${DECLS}on established if rtt < 10ms then log "x"`, good: `${DECLS}scheduler s { use where rtt < 10ms }` },
  E206: { bad: `${DECLS}on established then create via lte to announced`, good: `${DECLS}on announced then create via lte to announced` },
  E207: { bad: `${DECLS}on listener_created then create via lte`, good: `${DECLS}on listener_created then log "listening"` },
  E208: { bad: `${DECLS}on announced then destroy`, good: `${DECLS}on announced then destroy via lte` },
  E209: { bad: `${DECLS}on established then create via lte via wifi`, good: `${DECLS}on established then create via lte` },
  E210: { bad: `${DECLS}on established if family ipv5 then log "x"`, good: `${DECLS}on established if family ipv6 then log "x"` },
  E211: { bad: `${DECLS}on established then log "${"x".repeat(600)}"`, good: `${DECLS}on established then log "${"x".repeat(500)}"` },
  E212: { bad: `${DECLS}on established then log "x" retry 3`, good: `${DECLS}on established then create via lte retry 3, log "x"` },
  E300: { bad: `${DECLS}scheduler s { use where rtt < 5MB }`, good: `${DECLS}scheduler s { use where rtt < 5ms }` },
  E301: { bad: `${DECLS}scheduler s { use where rtt < 5 }`, good: `${DECLS}scheduler s { use where cwnd < 5 }` },
  E302: { bad: `${DECLS}limits subflows 65`, good: `${DECLS}limits subflows 64 add_addr_accepted 64` },
  E303: { bad: `${DECLS}endpoint 10.0.0.256 signal`, good: `${DECLS}endpoint 10.0.0.255 signal` },
  E304: { bad: `${DECLS}on established if remote in 10.1.0.0/8 then log "x"`, good: `${DECLS}on established if remote in 10.0.0.0/8 then log "x"` },
  E305: { bad: `${DECLS}on established then create from 10.0.0.1 to 2001:db8::1`, good: `${DECLS}on established then create from 2001:db8::2 to 2001:db8::1` },
  E400: { bad: `${DECLS}endpoint 192.0.2.1 sigal`, good: `${DECLS}endpoint 192.0.2.1 signal` },
  E401: { bad: `${DECLS}endpoint 192.0.2.1 signal fullmesh`, good: `${DECLS}endpoint 192.0.2.1 subflow fullmesh` },
  E402: { bad: `${DECLS}limits subflows 2\nlimits subflows 3`, good: `${DECLS}limits subflows 2 add_addr_accepted 3` },
  E403: { bad: `${DECLS}limits subflow 2`, good: `${DECLS}limits subflows 2` },
  E404: { bad: `${DECLS}endpoint 192.0.2.1 subflow port 8080`, good: `${DECLS}endpoint 192.0.2.1 signal port 8080` },
  E405: { bad: `${DECLS}endpoint wifi signal`, good: `${DECLS}endpoint 192.0.2.1 signal` },
  E500: { bad: `${DECLS}scheduler a { use any }\nscheduler b { use any }`, good: `${DECLS}scheduler a { use any }\nscheduler b for family ipv6 { use any }` },
  E501: { bad: `${DECLS}scheduler a { use by lowest stale }`, good: `${DECLS}scheduler a { use by lowest rtt_var }` },
  E502: { bad: `${DECLS}scheduler a for iface wifi { use any }`, good: `${DECLS}scheduler a for remote port 443 { use where iface wifi }` },
  E503: { bad: `${DECLS}scheduler a { }`, good: `${DECLS}scheduler a { use any }` },
  E700: { bad: `${DECLS}mptcp for program "curl" and remote port 443`, good: `${DECLS}mptcp for program "curl" and family ipv4` },
  E701: { bad: `${DECLS}mptcp for program "systemd-journald"`, good: `${DECLS}mptcp for program "systemd-journal*"` },
  E702: { bad: `${DECLS}mptcp for unit "nginx"`, good: `${DECLS}mptcp for unit "nginx.service"` },
  E703: { bad: `${DECLS}mptcp for cgroup "system.slice/app.service"`, good: `${DECLS}mptcp for cgroup "/system.slice/app.service"` },
  E704: { bad: `${DECLS}on established if program "curl" then log "x"`, good: `${DECLS}mptcp for program "curl"\non established then log "x"` },
  E800: { bad: `${DECLS}interface vpn = "tun0"\nisolate vpn\nisolate wifi, vpn`, good: `${DECLS}interface vpn = "tun0"\nisolate vpn\nisolate wifi, lte` },
  E801: { bad: `${DECLS}interface vpn = "tun0"\nisolate vpn\non established if iface vpn then create via wifi`, good: `${DECLS}interface vpn = "tun0"\nisolate vpn\non established if iface wifi then create via lte` },
  W600: { bad: `${DECLS}on subflow_closed if iface lte then create via lte`, good: `${DECLS}on subflow_closed if iface lte then create via lte after 1s` },
  W601: { bad: `${DECLS}on established if iface wifi then log "a"\non established if iface wifi then log "b"`, good: `${DECLS}on established if iface wifi then log "a"\non established if iface lte then log "b"` },
  W602: { bad: `${DECLS}interface eth = "eth0"`, good: `${DECLS}interface eth = "eth0"\nendpoint eth signal` },
  W603: { bad: `${DECLS}endpoint 192.0.2.1 signal signal`, good: `${DECLS}endpoint 192.0.2.1 signal` },
  W605: { bad: `${DECLS}${'on iface_up wifi then log "x"\n'.repeat(102)}`, good: `${DECLS}${'on iface_up wifi then log "x"\n'.repeat(2)}` },
  W604: { bad: `${DECLS}scheduler a { use any\n redundant }`, good: `${DECLS}scheduler a { redundant where active\n use any }` },
  W800: { bad: `${DECLS}interface vpn = "tun0"\nisolate vpn\non established then create via lte`, good: `${DECLS}interface vpn = "tun0"\nisolate vpn\non established if not iface vpn then create via lte` },
};

describe("every diagnostic code", () => {
  it("has a case in this table", () => {
    expect(Object.keys(CASES).sort()).toEqual(Object.keys(CODES).sort());
  });

  for (const [code, { bad, good }] of Object.entries(CASES)) {
    it(`${code} (${CODES[code as Code]}): reported for the bad case`, () => {
      expect(diagnose(bad).map((d) => d.code)).toContain(code);
    });
    it(`${code}: not reported, and no error, for the good case`, () => {
      const found = diagnose(good);
      expect(found.map((d) => d.code)).not.toContain(code);
      expect(found.filter((d) => d.severity === "error")).toEqual([]);
    });
  }
});

describe("E302: the ranges of limits and subflow counts", () => {
  it("takes limits up to 64, the largest maximum of any kernel (Linux 7), and refuses 65 at its position", () => {
    expect(diagnose(`${DECLS}limits subflows 64\nlimits add_addr_accepted 9\n`)).toEqual([]);
    expect(diagnose(`${DECLS}limits subflows 4 add_addr_accepted 65\n`)).toEqual([
      expect.objectContaining({ code: "E302", line: 5, column: 37, endColumn: 39, message: "limit 'add_addr_accepted' must be a whole number from 0 to 64, found 65" }),
    ]);
  });

  it("takes subflow counts up to 65 (the first subflow and 64 more)", () => {
    expect(diagnose(`${DECLS}on subflow_closed if subflows < 65 then log "x"\n`)).toEqual([]);
    expect(diagnose(`${DECLS}on subflow_closed if subflows < 66 then log "x"\n`)).toEqual([
      expect.objectContaining({ code: "E302", line: 5, column: 33, message: "a subflow count must be a whole number from 0 to 65, found 66" }),
    ]);
  });

  it("refuses ports out of range", () => {
    expect(diagnose(`${DECLS}on established if remote port 70000 then log "x"`).map((d) => d.code)).toEqual(["E302"]);
  });
});
