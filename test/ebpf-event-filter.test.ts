// The events socket's eBPF filter (runtime/netlink/ebpf-event-filter.ts) run in this
// machine's kernel (BPF_PROG_TEST_RUN through the netlink addon, the map kept between
// messages) on MPTCP events recorded from a real kernel: what it keeps and drops, the
// tokens it follows, and that a message cut at any length is kept. The same program
// on a socket of every lab kernel: daemon-events.test.ts.
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { IGNORED_CONNECTIONS, trackingEventFilterProgram, type TrackedSourceDrop } from "../runtime/netlink/ebpf-event-filter.js";
import { parseAddress } from "../runtime/netlink/addresses.js";
import { decodeMptcpEvent } from "../runtime/netlink/mptcp-codec.js";
import recorded from "./fixtures/netlink/recorded.json" with { type: "json" };

const require = createRequire(import.meta.url);
const { RawNetlinkSocket } = require("netlink") as { RawNetlinkSocket: { testRunBpfFilter(program: Buffer, entries: number, messages: Buffer[]): number[] } };

const FAMILY = recorded.family.id;
const EVENTS = [...recorded.messages.events_client, ...recorded.messages.events_server].map((hex) => Buffer.from(hex, "hex"));
const decoded = EVENTS.map((m) => ({ message: m, cmd: m[16]!, event: decodeMptcpEvent(m.subarray(16)) }));
const sources = [...new Set(decoded.map((d) => d.event.saddr).filter((a): a is string => a !== undefined))];
const CREATED = 1;
const ESTABLISHED = 2;
const CLOSED = 3;

const bytes = (address: string) => Buffer.from(parseAddress(address).bytes);
const ignoring = (addresses: readonly string[]): TrackedSourceDrop => ({
  commands: [CREATED, ESTABLISHED],
  ipv4: addresses.filter((a) => !a.includes(":")).map(bytes),
  ipv6: addresses.filter((a) => a.includes(":")).map(bytes),
});
/** Each message's fate in one run of the program (the map shared): true when dropped. */
const dropped = (program: Buffer, messages: Buffer[]) => RawNetlinkSocket.testRunBpfFilter(program, IGNORED_CONNECTIONS, messages).map((r) => r === 0);
/** The connections of the recording: their events in order, by token. */
const byToken = new Map<string, typeof decoded>();
for (const d of decoded) if (d.event.token) byToken.set(d.event.token, [...(byToken.get(d.event.token) ?? []), d]);
const connectionSource = (token: string) => byToken.get(token)!.find((d) => d.cmd === CREATED)?.event.saddr;

describe("eBPF event filter program (in this machine's kernel)", () => {
  it("the recording holds whole connections, `created` to `closed`, from more than one address", () => {
    const whole = [...byToken.values()].filter((events) => events[0]!.cmd === CREATED && events.some((d) => d.cmd === CLOSED));
    expect(whole.length).toBeGreaterThan(1);
    expect(new Set(whole.map((events) => events[0]!.event.saddr)).size).toBeGreaterThan(1);
  });

  it("drops the commands it names and keeps the others", () => {
    const program = trackingEventFilterProgram(FAMILY, [CREATED, 10], ignoring([]));
    expect(dropped(program, EVENTS)).toEqual(decoded.map((d) => d.cmd === CREATED || d.cmd === 10));
  });

  it("drops every event of a connection opened from an address it names, `closed` included, and nothing of the others", () => {
    for (const address of sources) {
      const program = trackingEventFilterProgram(FAMILY, [], ignoring([address, address.includes(":") ? "2001:db8::77" : "192.0.2.77"]));
      const expected = decoded.map((d) => {
        const opened = d.event.token ? connectionSource(d.event.token) : undefined;
        // A connection whose `created` the recording lacks is known only by its events' addresses.
        if (opened === undefined) return (d.cmd === CREATED || d.cmd === ESTABLISHED) && d.event.saddr === address;
        return opened === address;
      });
      expect(dropped(program, EVENTS), address).toEqual(expected);
    }
  });

  it("forgets a token at `closed`: the same token's events pass afterwards", () => {
    const [token, events] = [...byToken].find(([, e]) => e[0]!.cmd === CREATED && e.some((d) => d.cmd === CLOSED))!;
    const program = trackingEventFilterProgram(FAMILY, [], ignoring([connectionSource(token)!]));
    const closed = events.find((d) => d.cmd === CLOSED)!.message;
    const others = events.filter((d) => d.cmd !== CREATED && d.cmd !== ESTABLISHED && d.cmd !== CLOSED).map((d) => d.message);
    const results = dropped(program, [events[0]!.message, ...others, closed, ...others, closed]);
    expect(results).toEqual([true, ...others.map(() => true), true, ...others.map(() => false), false]);
  });

  it("forgets a token at a new `created` of it from an address it keeps (an entry whose `closed` it never saw)", () => {
    const [, events] = [...byToken].find(([, e]) => e[0]!.cmd === CREATED && e.some((d) => d.cmd === CLOSED))!;
    const created = events[0]!.message;
    const elsewhere = Buffer.from(created);
    const source = events[0]!.event.saddr!;
    // The same message from another address: its SADDR bytes rewritten in place.
    const at = elsewhere.indexOf(bytes(source), 24);
    expect(at).toBeGreaterThan(0);
    elsewhere.fill(0x7f, at, at + 1);
    const program = trackingEventFilterProgram(FAMILY, [], ignoring([source]));
    const closed = events.find((d) => d.cmd === CLOSED)!.message;
    expect(dropped(program, [created, elsewhere, closed])).toEqual([true, false, false]);
  });

  it("keeps other families' messages and messages too short for a header or a token", () => {
    const program = trackingEventFilterProgram(FAMILY, [CREATED, ESTABLISHED, CLOSED, 10, 11], ignoring([]));
    const other = Buffer.from(EVENTS[0]!);
    other.writeUInt16LE(FAMILY + 1, 4);
    expect(dropped(program, [other, EVENTS[0]!.subarray(0, 18)])).toEqual([false, false]);
  });

  it("keeps a message cut at any length, except where a whole token and address already say it goes", () => {
    const program = trackingEventFilterProgram(FAMILY, [13], { ...ignoring(sources), commands: [CREATED, ESTABLISHED, 10] });
    for (const { message, cmd } of decoded) {
      const cuts = Array.from({ length: message.length + 1 }, (_, length) => message.subarray(0, length));
      const results = dropped(program, cuts);
      // A cut message is dropped only when what it still holds would drop it whole.
      const whole = dropped(program, [message])[0];
      results.forEach((r, length) => {
        if (r) expect(whole || cmd === 13, `cmd ${cmd} cut at ${length} of ${message.length}`).toBe(true);
      });
      expect(results[message.length]).toBe(whole);
      expect(results.slice(0, 20).every((r) => !r), `cmd ${cmd}: a message shorter than its header is kept`).toBe(true);
    }
  });

  it("refuses what it cannot encode", () => {
    expect(() => trackingEventFilterProgram(70000, [], ignoring([]))).toThrow(RangeError);
    expect(() => trackingEventFilterProgram(FAMILY, [300], ignoring([]))).toThrow(RangeError);
    expect(() => trackingEventFilterProgram(FAMILY, [], { commands: [2], ipv4: [Buffer.alloc(16)], ipv6: [] })).toThrow(RangeError);
  });
});
