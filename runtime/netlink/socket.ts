// One netlink socket on top of the `netlink` npm package's RawNetlinkSocket:
// requests matched by sequence number (several may be in flight), multipart
// dumps collected until DONE, ACKs and errors turned into results or typed
// NetlinkErrors with the kernel's extended-ack message, and multicast messages
// handed to listeners. A receive-buffer overflow (ENOBUFS) is reported to the
// overflow listeners, since multicast messages were lost and state must be re-read.
import { closeSync, openSync } from "node:fs";
import { attrPathAt, encodeMessage, NetlinkDecodeError, parseDone, parseError, parseMessages, type NlError, type NlMessage } from "./codec.js";
import {
  NETLINK_CAP_ACK,
  NETLINK_EXT_ACK,
  NLM_F_ACK,
  NLM_F_DUMP,
  NLM_F_MULTI,
  NLM_F_REQUEST,
  NLMSG_DONE,
  NLMSG_ERROR,
  NLMSG_NOOP,
  NLMSG_OVERRUN,
  SO_RCVBUF,
  SO_RCVBUFFORCE,
  SOL_NETLINK,
  SOL_SOCKET,
} from "./constants.js";
import { errnoName, hintFor, NetlinkError, NetlinkSetupError } from "./errors.js";
import { netlinkRaw } from "./native.js";

/** A batch of requests stays well under the socket's send buffer (net.core.wmem_default, 208 KiB). */
const MAX_BATCH_BYTES = 32 << 10;
/** sendmsg errors after which the addon's queue sends again when the socket is writable. */
const EAGAIN = 11;
const ENOBUFS = 105;

type Raw = InstanceType<typeof import("netlink/dist/raw.js").RawNetlinkSocket>;

export interface NetlinkSocketOptions {
  /** Open the socket in this named network namespace (/run/netns/NAME), like `ip -n NAME`. */
  readonly netns?: string | undefined;
  /** SO_RCVBUF(FORCE) in bytes; event sockets want a large one. */
  readonly receiveBuffer?: number | undefined;
  /** Milliseconds before an unanswered request fails with ETIMEDOUT (default 10 s). */
  readonly timeoutMs?: number | undefined;
}

export interface RequestOptions {
  /** Ask for a dump (NLM_F_DUMP) and collect every part until DONE. */
  readonly dump?: boolean;
  /**
   * The kernel answers with exactly one message (a "get"): no ACK is asked for, the
   * reply completes the request (as iproute2 does); errors still come back.
   */
  readonly expectReply?: boolean;
  /** Extra NLM_F_* flags (NLM_F_CREATE, ...). */
  readonly flags?: number;
  /** For error messages: "mptcp_pm ADD_ADDR". */
  readonly describe: string;
  /** Bytes before the attributes (genl header 4, ifinfomsg 16, ...), to name the attribute an error points at. */
  readonly headerLength?: number;
  /** Names attribute paths for errors: [1, 1] -> "addr.family". */
  readonly attrName?: (path: readonly number[]) => string | undefined;
}

interface Pending {
  readonly replies: NlMessage[];
  readonly dump: boolean;
  readonly request: Buffer;
  readonly options: RequestOptions;
  readonly resolve: (replies: NlMessage[]) => void;
  readonly reject: (error: Error) => void;
  /** performance.now() after which the request fails with ETIMEDOUT. */
  readonly deadline: number;
}

export type MulticastListener = (message: NlMessage) => void;

/** A netlink socket of one protocol (NETLINK_GENERIC, NETLINK_ROUTE, NETLINK_SOCK_DIAG). */
export class NetlinkSocket {
  private readonly raw: Raw;
  private readonly pending = new Map<number, Pending>();
  private readonly multicastListeners: MulticastListener[] = [];
  private readonly overflowListeners: (() => void)[] = [];
  private readonly errorListeners: ((error: Error) => void)[] = [];
  /** The kernel runs one dump per socket at a time (EBUSY otherwise): dumps wait for each other. */
  private dumpQueue: Promise<unknown> = Promise.resolve();
  private seq = Math.floor(Math.random() * 0x7fffffff) + 1;
  private closed = false;
  private keepAlive = false;
  /** Requests waiting for the end of this turn of the event loop, sent together by flush(). */
  private outbox: Buffer[] = [];
  private outboxSeqs: number[] = [];
  private outboxBytes = 0;
  private flushScheduled = false;
  private readonly timeoutMs: number;
  /** One sweep timer for every request's deadline (cheaper than a timer per request), stopped by a sweep that finds none. */
  private sweeper: NodeJS.Timeout | undefined;
  readonly port: number;

  constructor(protocol: number, options: NetlinkSocketOptions = {}) {
    let netnsFd: number | undefined;
    if (options.netns !== undefined) netnsFd = openNetns(options.netns);
    try {
      this.raw = new (netlinkRaw().RawNetlinkSocket)(protocol, netnsFd === undefined ? {} : { netnsFd });
    } finally {
      if (netnsFd !== undefined) closeSync(netnsFd);
    }
    if (typeof this.raw.setSockOpt !== "function") {
      this.raw.close();
      throw new NetlinkSetupError("the netlink addon is not patched: run 'bash scripts/setup.sh' (npm ci applies patches/netlink+0.3.0.patch and rebuilds it)");
    }
    this.timeoutMs = options.timeoutMs ?? 10_000;
    // Extended ACKs carry the kernel's error text; capped ACKs do not echo our request back.
    this.raw.setSockOpt(SOL_NETLINK, NETLINK_EXT_ACK, 1);
    this.raw.setSockOpt(SOL_NETLINK, NETLINK_CAP_ACK, 1);
    if (options.receiveBuffer !== undefined) this.setReceiveBuffer(options.receiveBuffer);
    this.port = this.raw.address().port;
    this.raw.on("message", (data: Buffer, info: { groups: number }) => this.receive(data, info.groups !== 0));
    this.raw.on("truncatedMessage", () => this.failAll(new NetlinkDecodeError("a netlink message was truncated")));
    this.raw.on("error", (error: NodeJS.ErrnoException) => this.socketError(error));
    this.raw.unref();
  }

  /** SO_RCVBUFFORCE needs CAP_NET_ADMIN; without it SO_RCVBUF (capped by net.core.rmem_max). */
  setReceiveBuffer(bytes: number): void {
    try {
      this.raw.setSockOpt(SOL_SOCKET, SO_RCVBUFFORCE, bytes);
    } catch {
      this.raw.setSockOpt(SOL_SOCKET, SO_RCVBUF, bytes);
    }
  }

  receiveBufferSize(): number {
    return this.raw.getSockOpt(SOL_SOCKET, SO_RCVBUF);
  }

  /** Attach a classic BPF filter (event-filter.ts), replacing any; undefined detaches it. */
  setFilter(program: Buffer | undefined): void {
    if (program === undefined) this.raw.detachFilter();
    else this.raw.attachFilter(program);
  }

  /** Attach an eBPF filter with a map of `mapEntries` (ebpf-event-filter.ts), replacing any filter. */
  setBpfFilter(program: Buffer, mapEntries: number): void {
    this.raw.attachBpfFilter(program, mapEntries);
  }

  /** Join a multicast group; the socket then keeps the process alive until closed. */
  addMembership(group: number): void {
    this.raw.addMembership(group);
    this.keepAlive = true;
    this.raw.ref();
  }

  onMulticast(listener: MulticastListener): void {
    this.multicastListeners.push(listener);
  }

  /** Called when the kernel dropped multicast messages for lack of buffer space (ENOBUFS). */
  onOverflow(listener: () => void): void {
    this.overflowListeners.push(listener);
  }

  onError(listener: (error: Error) => void): void {
    this.errorListeners.push(listener);
  }

  /** Send a request and wait for its replies; an ACK alone resolves to []. */
  request(type: number, payload: Buffer, options: RequestOptions): Promise<NlMessage[]> {
    if (!options.dump) return this.send(type, payload, options);
    const result = this.dumpQueue.then(() => this.send(type, payload, options));
    this.dumpQueue = result.catch(() => undefined);
    return result;
  }

  private send(type: number, payload: Buffer, options: RequestOptions): Promise<NlMessage[]> {
    if (this.closed) return Promise.reject(new Error(`${options.describe}: the netlink socket is closed`));
    const seq = this.nextSeq();
    const flags = NLM_F_REQUEST | (options.dump ? NLM_F_DUMP : options.expectReply ? 0 : NLM_F_ACK) | (options.flags ?? 0);
    const message = encodeMessage(type, flags, seq, payload);
    return new Promise<NlMessage[]>((resolve, reject) => {
      this.pending.set(seq, {
        replies: [],
        dump: options.dump === true,
        request: message,
        options,
        resolve,
        reject,
        deadline: performance.now() + this.timeoutMs,
      });
      if (this.pending.size === 1) this.raw.ref();
      this.sweeper ??= setInterval(() => this.sweep(), Math.min(1000, this.timeoutMs)).unref();
      if (options.dump) {
        // A dump goes alone (the kernel runs one at a time per socket), after what is queued.
        this.flush();
        this.transmit(message, [seq]);
        return;
      }
      this.outbox.push(message);
      this.outboxSeqs.push(seq);
      this.outboxBytes += message.length;
      if (this.outboxBytes >= MAX_BATCH_BYTES) this.flush();
      else if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /**
   * Send what is queued as one datagram: the kernel reads every message of it in turn
   * and answers each by its sequence number, as if sent one by one. The requests of
   * one turn of the event loop (a burst of events, each with its rule's action) cost
   * one system call and one completion instead of one each.
   */
  private flush(): void {
    this.flushScheduled = false;
    if (this.outbox.length === 0 || this.closed) return;
    const messages = this.outbox;
    const seqs = this.outboxSeqs;
    this.outbox = [];
    this.outboxSeqs = [];
    this.outboxBytes = 0;
    this.transmit(messages.length === 1 ? (messages[0] as Buffer) : Buffer.concat(messages), seqs);
  }

  private transmit(datagram: Buffer, seqs: readonly number[]): void {
    // Sent at once when nothing is queued: no request object, timer or callback in the
    // addon (the kernel answers on the receive side). Queued by send() when it would block.
    const sent = this.raw.trySend(datagram, {});
    if (sent >= 0) return;
    if (sent !== -EAGAIN && sent !== -ENOBUFS) {
      this.sendFailed(seqs, -sent, errnoName(-sent));
      return;
    }
    this.raw.send(datagram, {}, (error?: NodeJS.ErrnoException) => {
      if (error) this.sendFailed(seqs, error.errno ?? 5, error.message);
    });
  }

  /** The requests of a datagram the kernel never got fail with the send's error. */
  private sendFailed(seqs: readonly number[], errno: number, why: string): void {
    for (const seq of seqs) {
      const pending = this.pending.get(seq);
      if (pending) this.settle(seq, new NetlinkError({ errno, request: pending.options.describe, extack: `sending failed: ${why}` }));
    }
  }

  private sweep(): void {
    // Idle: no timer. A daemon with nothing in flight woke twice a second for nothing.
    if (this.pending.size === 0) {
      if (this.sweeper) clearInterval(this.sweeper);
      this.sweeper = undefined;
      return;
    }
    const now = performance.now();
    for (const [seq, pending] of this.pending) {
      if (pending.deadline <= now)
        this.settle(seq, new NetlinkError({ errno: 110, request: pending.options.describe, extack: `no answer within ${this.timeoutMs} ms` }));
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.sweeper) clearInterval(this.sweeper);
    this.failAll(new Error("the netlink socket was closed"));
    this.raw.close();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private nextSeq(): number {
    do this.seq = (this.seq % 0xfffffffe) + 1;
    while (this.pending.has(this.seq));
    return this.seq;
  }

  private receive(data: Buffer, multicast: boolean): void {
    let messages: NlMessage[];
    try {
      messages = parseMessages(data);
    } catch (error) {
      this.emitError(error as Error);
      return;
    }
    for (const message of messages) {
      if (multicast || message.seq === 0 || !this.pending.has(message.seq)) {
        if (message.type !== NLMSG_NOOP && message.type !== NLMSG_ERROR && message.type !== NLMSG_DONE) {
          for (const listener of this.multicastListeners) listener(message);
        }
        continue;
      }
      const pending = this.pending.get(message.seq);
      if (!pending) continue;
      if (message.type === NLMSG_ERROR) {
        const error = safeParse(() => parseError(message.payload, message.flags));
        if (!error) this.settle(message.seq, new NetlinkDecodeError(`${pending.options.describe}: malformed error message`));
        else if (error.errno === 0) this.settle(message.seq, undefined);
        else this.settle(message.seq, this.toError(error, pending));
      } else if (message.type === NLMSG_DONE) {
        const done = safeParse(() => parseDone(message.payload, message.flags, message.seq));
        if (done && done.errno !== 0) this.settle(message.seq, this.toError(done, pending));
        else this.settle(message.seq, undefined);
      } else if (message.type === NLMSG_OVERRUN) {
        this.settle(message.seq, new NetlinkDecodeError(`${pending.options.describe}: overrun`));
      } else if (message.type !== NLMSG_NOOP) {
        pending.replies.push(message);
        // A reply to a plain request that is not multipart and needs no ACK is complete by itself.
        if (!pending.dump && !(message.flags & NLM_F_MULTI) && !(pending.request.readUInt16LE(6) & NLM_F_ACK)) this.settle(message.seq, undefined);
      }
    }
  }

  private toError(error: NlError, pending: Pending): NetlinkError {
    const { options, request } = pending;
    let attribute: string | undefined;
    if (error.offset !== undefined && options.attrName) {
      const path = attrPathAt(request, error.offset, options.headerLength ?? 0);
      if (path.length > 0) attribute = options.attrName(path) ?? path.join(".");
    }
    let missing: string | undefined;
    if (error.missingType !== undefined) missing = options.attrName?.([error.missingType]) ?? String(error.missingType);
    return new NetlinkError({
      errno: error.errno,
      request: options.describe,
      extack: error.message,
      attribute,
      missing,
      hint: hintFor(error.errno, error.message),
    });
  }

  private settle(seq: number, error: Error | undefined): void {
    const pending = this.pending.get(seq);
    if (!pending) return;
    this.pending.delete(seq);
    if (this.pending.size === 0 && !this.keepAlive && !this.closed) this.raw.unref();
    if (error) pending.reject(error);
    else pending.resolve(pending.replies);
  }

  private failAll(error: Error): void {
    for (const seq of [...this.pending.keys()]) this.settle(seq, error);
  }

  private socketError(error: NodeJS.ErrnoException): void {
    if (error.code === "ENOBUFS") {
      // Multicast messages were dropped. Pending requests may have lost their replies too.
      this.failAll(new NetlinkError({ errno: 105, request: "receive", extack: "the receive buffer overflowed; replies were lost" }));
      for (const listener of this.overflowListeners) listener();
      return;
    }
    this.emitError(error);
  }

  private emitError(error: Error): void {
    if (this.errorListeners.length === 0) {
      this.failAll(error);
      return;
    }
    for (const listener of this.errorListeners) listener(error);
  }
}

function safeParse<T>(parse: () => T): T | undefined {
  try {
    return parse();
  } catch {
    return undefined;
  }
}

function openNetns(name: string): number {
  if (name.includes("/") || name === "." || name === "..") throw new NetlinkSetupError(`bad network namespace name '${name}'`);
  try {
    return openSync(`/run/netns/${name}`, "r");
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code ?? "EIO";
    throw new NetlinkSetupError(
      `network namespace '${name}': ${code === "ENOENT" ? "does not exist (see 'ip netns list')" : errnoName(Math.abs((cause as NodeJS.ErrnoException).errno ?? 5))}`,
    );
  }
}
