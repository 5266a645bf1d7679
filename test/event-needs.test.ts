// Which MPTCP events a policy lets the kernel drop (compiler/event-needs.ts): each
// feature that reads an event keeps it; the kernel side is in monitor-status.test.ts
// (the filter itself) and daemon-events.test.ts (the daemon with it).
import { describe, expect, it } from "vitest";
import { eventNeeds, KERNEL_EVENTS } from "../compiler/event-needs.js";
import { EVENTS } from "../language/vocabulary.js";
import { MPTCP_EVENT_NAMES } from "../runtime/netlink/policy-event.js";
import type { PolicyModel } from "../compiler/model.js";
import { compilePolicy } from "../compiler/pipeline.js";

const DECLS = 'interface wifi = "wifi"\ninterface lte = "lte"\n';

function model(text: string): PolicyModel {
  const result = compilePolicy([{ name: "test.policy", text: DECLS + text }]);
  const errors = result.diagnostics.filter((d) => d.severity === "error");
  if (!result.model || errors.length > 0) throw new Error(`${text}: ${JSON.stringify(errors)}`);
  return result.model;
}

const dropped = (text: string, countsEvents = false) => eventNeeds(model(text), { countsEvents }).dropped;

describe("eventNeeds", () => {
  it("knows every event of the kernel's MPTCP group, as the language and the decoder name them", () => {
    expect([...KERNEL_EVENTS].sort()).toEqual(
      EVENTS.filter((e) => e.source === "mptcp")
        .map((e) => e.name)
        .sort(),
    );
    expect([...KERNEL_EVENTS].sort()).toEqual([...MPTCP_EVENT_NAMES.values()].sort());
  });

  it("a rule on established that creates a subflow needs created, established and closed only", () => {
    expect(dropped("on established if iface wifi then create via lte\n")).toEqual([
      "announced",
      "removed",
      "subflow_established",
      "subflow_closed",
      "subflow_priority",
      "listener_created",
      "listener_closed",
    ]);
  });

  it("keeps the events rules are on", () => {
    const kept = dropped('on created then log "c"\non subflow_closed then log "x"\non listener_created then log "l"\n');
    expect(kept).not.toContain("subflow_closed");
    expect(kept).not.toContain("listener_created");
    expect(kept).toContain("listener_closed");
    expect(kept).toContain("announced");
  });

  it("keeps subflow events for what reads the table's subflows", () => {
    for (const text of [
      "on established then create via lte backup\n",
      "on established then create via lte retry 3\n",
      "on iface_down wifi then destroy via wifi\n",
      "on iface_up wifi then set lte backup\n",
      "on established if subflows < 2 then create via lte\n",
      "limits subflows 2\non established then create via lte\n",
      "limits add_addr_accepted 1\non announced then create via lte to announced\n",
      'endpoint lte subflow\non established then log "e"\n',
    ]) {
      const d = dropped(text);
      expect(d, text).not.toContain("subflow_established");
      expect(d, text).not.toContain("subflow_closed");
      expect(d, text).not.toContain("subflow_priority");
    }
  });

  it("keeps announcements for what answers them", () => {
    for (const text of [
      "on announced then create via lte to announced\n",
      'on removed then log "r"\n',
      "limits add_addr_accepted 2\non established then create via lte\n",
    ]) {
      const d = dropped(text);
      expect(d, text).not.toContain("announced");
      expect(d, text).not.toContain("removed");
    }
  });

  it("names the interfaces whose connections a rule can act on, when that is all connections are followed for", () => {
    const interfaces = (text: string) => eventNeeds(model(text), { countsEvents: false }).connectionInterfaces;
    expect(interfaces("on established if iface wifi then create via lte\n")).toEqual(["wifi"]);
    expect(interfaces('on established if iface wifi and remote port 443 then create via lte\non created if iface lte or iface wifi then log "c"\n')).toEqual([
      "lte",
      "wifi",
    ]);
    expect(interfaces('on established if iface wifi then create via lte\non iface_up lte then log "up"\n')).toEqual(["wifi"]);
    for (const text of [
      "on established then create via lte\n",
      "on established if not iface wifi then create via lte\n",
      "on established if iface wifi or remote port 443 then create via lte\n",
      'on established if iface wifi then create via lte\non subflow_closed if iface lte then log "x"\n',
      "on established if iface wifi then create via lte\non iface_up lte then create via lte\n",
      'endpoint lte subflow\non established if iface wifi then log "e"\n',
    ])
      expect(interfaces(text), text).toBeUndefined();
  });

  it("drops nothing for metrics, zones, schedulers and stale detection", () => {
    expect(dropped("on established then create via lte\n", true)).toEqual([]);
    expect(dropped("isolate wifi\non established if iface lte then create via lte\n")).toEqual([]);
    expect(dropped("on subflow_stale if iface wifi then set wifi backup\n")).toEqual([]);
    expect(eventNeeds(model("on established then create via lte\n"), { countsEvents: true }).keptBecause).toMatch(/metrics/);
  });
});
