// The binary snapshot the decision core reads (struct mpp_snapshot in mptcp_policy.h)
// and the result it writes (struct mpp_result), for test runs and `simulate --engine
// bpf`. Host byte order, as the BPF program sees memory. Pure and browser-safe.
import ipaddr from "ipaddr.js";
import type { Purpose } from "./evaluate.js";
import type { Snapshot } from "./snapshot.js";

export const SUBFLOW_SIZE = 48;
export const CONN_SIZE = 48;
export const SNAPSHOT_SIZE = CONN_SIZE + 8 * SUBFLOW_SIZE;
/** struct mpp_test_input: force (u32), pad, snapshot. */
export const TEST_INPUT_SIZE = 8 + SNAPSHOT_SIZE;
export const RESULT_SIZE = 8;

export const FLAG_ACTIVE = 1;
export const FLAG_BACKUP = 2;
export const FLAG_STALE = 4;
export const FLAG_SNDBUF_FULL = 8;
/** struct mpp_conn.purpose */
export const PURPOSE_CODE = { send: 0, retrans: 1 } as const;

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export interface EncodeOptions {
  /** Interface class bits of each subflow (bit i: class i), in subflow order. */
  readonly ifaceMasks: readonly bigint[];
  /** The round_robin turn the connection has reached. */
  readonly turn: number;
  /** 0: let the policy pick the scheduler; n: run scheduler n-1 alone. */
  readonly force?: number;
  /** n > 0: the test-run helper keeps the turn of connection n from run to run. */
  readonly tracked?: number;
  /** New data (default) or a retransmission. */
  readonly purpose?: Purpose;
}

/** struct mpp_test_input for one snapshot. */
export function encodeTestInput(snapshot: Snapshot, options: EncodeOptions): Uint8Array {
  const bytes = new Uint8Array(TEST_INPUT_SIZE);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, options.force ?? 0, LITTLE_ENDIAN);
  view.setUint32(4, options.tracked ?? 0, LITTLE_ENDIAN);
  encodeSnapshotInto(view, 8, snapshot, options);
  return bytes;
}

function encodeSnapshotInto(view: DataView, base: number, snapshot: Snapshot, options: EncodeOptions): void {
  const c = snapshot.connection;
  const local = addressWords(c.local);
  const remote = addressWords(c.remote);
  local.words.forEach((w, i) => view.setUint32(base + 4 * i, w, LITTLE_ENDIAN));
  remote.words.forEach((w, i) => view.setUint32(base + 16 + 4 * i, w, LITTLE_ENDIAN));
  view.setUint16(base + 32, c.localPort, LITTLE_ENDIAN);
  view.setUint16(base + 34, c.remotePort, LITTLE_ENDIAN);
  view.setUint8(base + 36, c.family === "ipv4" ? 4 : 6);
  view.setUint8(base + 37, local.kind);
  view.setUint8(base + 38, remote.kind);
  view.setUint8(base + 39, c.side === "server" ? 1 : 0);
  view.setUint8(base + 40, snapshot.subflows.length);
  view.setUint8(base + 41, snapshot.subflows.length);
  view.setUint8(base + 42, PURPOSE_CODE[options.purpose ?? "send"]);
  view.setUint32(base + 44, options.turn >>> 0, LITTLE_ENDIAN);
  snapshot.subflows.forEach((s, i) => {
    const at = base + CONN_SIZE + i * SUBFLOW_SIZE;
    view.setBigUint64(at, BigInt(s.metrics.pacing), LITTLE_ENDIAN);
    view.setBigUint64(at + 8, options.ifaceMasks[i] ?? 0n, LITTLE_ENDIAN);
    const u32 = [s.metrics.rtt, s.metrics.rtt_var, s.metrics.cwnd, s.metrics.inflight, s.metrics.queued, s.metrics.lost, s.metrics.retrans];
    u32.forEach((v, k) => view.setUint32(at + 16 + 4 * k, v, LITTLE_ENDIAN));
    const flags = (s.active ? FLAG_ACTIVE : 0) | (s.backup ? FLAG_BACKUP : 0) | (s.stale ? FLAG_STALE : 0) | (s.sndbufFull ? FLAG_SNDBUF_FULL : 0);
    view.setUint32(at + 44, flags, LITTLE_ENDIAN);
  });
}

/** Host-order words as struct mpp_conn keeps them; IPv4-mapped IPv6 counts as IPv4. */
export function addressWords(text: string): { kind: 4 | 6; words: [number, number, number, number] } {
  const parsed = ipaddr.process(text);
  const bytes = parsed.toByteArray();
  const word = (i: number) => (((bytes[i] ?? 0) << 24) | ((bytes[i + 1] ?? 0) << 16) | ((bytes[i + 2] ?? 0) << 8) | (bytes[i + 3] ?? 0)) >>> 0;
  if (parsed.kind() === "ipv4") return { kind: 4, words: [word(0), 0, 0, 0] };
  return { kind: 6, words: [word(0), word(4), word(8), word(12)] };
}

export interface DecodedResult {
  /** 1 + the index of the scheduler that served; 0: none matched. */
  readonly sched: number;
  /** 1-based step; 0: none found a subflow. */
  readonly step: number;
  readonly mask: number;
  readonly turn: number;
}

export function decodeResult(bytes: Uint8Array, offset = 0): DecodedResult {
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, RESULT_SIZE);
  return { sched: view.getUint8(0), step: view.getUint8(1), mask: view.getUint8(2), turn: view.getUint32(4, LITTLE_ENDIAN) };
}
