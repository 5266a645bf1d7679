// Actions delayed by `after`, grouped by connection so that closing a connection
// cancels what was pending for it.

export class DelayedActions {
  private readonly byConnection = new Map<string, Set<NodeJS.Timeout>>();
  private readonly unowned = new Set<NodeJS.Timeout>();

  schedule(token: string | undefined, delayMs: number, run: () => void): void {
    const owner = token === undefined ? this.unowned : this.setFor(token);
    const timer = setTimeout(() => {
      owner.delete(timer);
      if (token !== undefined && owner.size === 0) this.byConnection.delete(token);
      run();
    }, delayMs);
    owner.add(timer);
  }

  /** Cancel what is pending for a connection; returns how many were cancelled. */
  cancel(token: string): number {
    const timers = this.byConnection.get(token);
    if (!timers) return 0;
    for (const timer of timers) clearTimeout(timer);
    this.byConnection.delete(token);
    return timers.size;
  }

  cancelAll(): void {
    for (const token of [...this.byConnection.keys()]) this.cancel(token);
    for (const timer of this.unowned) clearTimeout(timer);
    this.unowned.clear();
  }

  pending(token?: string): number {
    if (token !== undefined) return this.byConnection.get(token)?.size ?? 0;
    let total = this.unowned.size;
    for (const timers of this.byConnection.values()) total += timers.size;
    return total;
  }

  private setFor(token: string): Set<NodeJS.Timeout> {
    let timers = this.byConnection.get(token);
    if (!timers) {
      timers = new Set();
      this.byConnection.set(token, timers);
    }
    return timers;
  }
}
