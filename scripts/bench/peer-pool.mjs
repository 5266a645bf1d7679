// Several scripts/bench-daemon-peer.py clients and servers driven as one, for
// scripts/bench-daemon.mjs. One python3 process holds at most its RLIMIT_NOFILE of
// sockets (the hard limit, 20,000 on some hosts, cannot be raised without
// CAP_SYS_RESOURCE) and connects one socket at a time: 100,000 open connections and
// 10,000 new ones a second need several. Pair i (client i, server i) uses port
// BASE + i of every target, so each server accepts only its own client's connections.

export class PeerPool {
  /** `start(role)` starts one peer and returns its LinePeer (ask, quit, child). */
  constructor(start, size) {
    this.size = size;
    this.servers = Array.from({ length: size }, () => start("server"));
    this.clients = Array.from({ length: size }, () => start("client"));
  }

  get pids() {
    return [...this.servers, ...this.clients].map((p) => p.child.pid);
  }

  /** Every server listens on port + its index in namespace `ns`. */
  async listen(ns, port) {
    await Promise.all(this.servers.map((s, i) => s.ask({ cmd: "listen", ns, port: port + i })));
  }

  /**
   * Open `count` connections at `rate` in all: each client opens its share at its share
   * of the rate, at the same time. Connection j of a client goes to targets[j % n], so
   * targets alternate as with one client. The answer has the shape of one client's, with
   * each token's target index, and `elapsed_s` the slowest client's.
   */
  async open(targets, count, rate) {
    const shares = this.clients.map((_, i) => Math.floor(count / this.size) + (i < count % this.size ? 1 : 0));
    const answers = await Promise.all(
      this.clients.map((c, i) =>
        shares[i] === 0
          ? Promise.resolve({ opened: 0, errors: [], error_count: 0, elapsed_s: 0, max_lag_ms: 0, tokens: [] })
          : c.ask({ cmd: "open", targets: targets.map((t) => ({ ...t, port: t.port + i })), count: shares[i], rate: (rate * shares[i]) / count }),
      ),
    );
    return {
      opened: answers.reduce((n, a) => n + a.opened, 0),
      errors: answers.flatMap((a) => a.errors).slice(0, 5),
      error_count: answers.reduce((n, a) => n + a.error_count, 0),
      elapsed_s: Math.max(...answers.map((a) => a.elapsed_s)),
      max_lag_ms: Math.max(...answers.map((a) => a.max_lag_ms)),
      tokens: answers.flatMap((a) => a.tokens),
    };
  }

  /** Close every open connection; at `rate` per second in all when given (each client its share). */
  async close(rate) {
    await Promise.all(this.clients.map((c) => c.ask(rate ? { cmd: "close", rate: rate / this.size } : { cmd: "close" })));
  }

  /** Open and accepted connections of all servers; `nofile` is the smallest fd limit. */
  async count() {
    const answers = await Promise.all(this.servers.map((s) => s.ask({ cmd: "count" })));
    return { open: answers.reduce((n, a) => n + a.open, 0), accepted: answers.reduce((n, a) => n + a.accepted, 0), nofile: Math.min(...answers.map((a) => a.nofile)) };
  }

  async quit() {
    await Promise.all([...this.clients, ...this.servers].map((p) => p.quit()));
  }
}
