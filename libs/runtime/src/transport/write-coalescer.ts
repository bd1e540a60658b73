/**
 * Gathers writes made in the same turn of the event loop and flushes them together, so N
 * concurrent enqueues become one `addBulk` and the replies of one batch one pipeline: one
 * Redis round trip instead of N.
 */
export class WriteCoalescer<T, R> {
  private buffer: { item: T; resolve: (r: R) => void; reject: (e: unknown) => void }[] = [];
  private scheduled = false;

  constructor(private readonly flush: (items: T[]) => Promise<R[]>) {}

  push(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.buffer.push({ item, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => void this.drain());
      }
    });
  }

  private async drain(): Promise<void> {
    const entries = this.buffer;
    this.buffer = [];
    this.scheduled = false;
    try {
      const results = await this.flush(entries.map((e) => e.item));
      entries.forEach((e, i) => e.resolve(results[i]!));
    } catch (err) {
      for (const e of entries) e.reject(err);
    }
  }
}
