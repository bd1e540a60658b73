/**
 * Gathers writes and flushes them together, so N concurrent enqueues become one `addBulk` and
 * the replies of one batch one pipeline: one Redis round trip instead of N. Writes of one turn
 * of the event loop go together; while a flush is in flight, later writes wait for it and
 * then go together in the next one (group commit). An idle coalescer adds no wait beyond the
 * turn; a busy one trades at most one round trip of latency for fewer, larger writes.
 */
export class WriteCoalescer<T, R> {
  private buffer: { item: T; resolve: (r: R) => void; reject: (e: unknown) => void }[] = [];
  private scheduled = false;
  private flushing = false;

  constructor(private readonly flush: (items: T[]) => Promise<R[]>) {}

  push(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.buffer.push({ item, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.flushing || this.buffer.length === 0) return;
    this.scheduled = true;
    setImmediate(() => void this.drain());
  }

  private async drain(): Promise<void> {
    const entries = this.buffer;
    this.buffer = [];
    this.scheduled = false;
    this.flushing = true;
    try {
      const results = await this.flush(entries.map((e) => e.item));
      entries.forEach((e, i) => e.resolve(results[i]!));
    } catch (err) {
      for (const e of entries) e.reject(err);
    } finally {
      this.flushing = false;
      this.schedule();
    }
  }
}
