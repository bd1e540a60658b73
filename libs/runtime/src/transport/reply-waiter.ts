import type { ScoringReply } from '../../../contracts/src/index.js';

interface Waiting<T> {
  resolve: (reply: ScoringReply) => void;
  timer: NodeJS.Timeout;
  since: number;
  /** Where the job went (e.g. its queue and BullMQ job), for missed-reply lookups. */
  tag?: T;
}

/**
 * The callers waiting for replies on one API instance, by correlation id. Every wait ends by
 * its deadline: with the reply, or with a 504 failure when the deadline comes first.
 */
export class ReplyWaiter<T = string> {
  private readonly waiting = new Map<string, Waiting<T>>();
  /** Replies that arrived for nobody (late, duplicated, or for another instance). */
  unmatched = 0;
  /** Waits that ended at their deadline. */
  timedOut = 0;

  get size(): number {
    return this.waiting.size;
  }

  wait(id: string, deadline: number, tag?: T): Promise<ScoringReply> {
    return new Promise<ScoringReply>((resolve) => {
      const timer = setTimeout(
        () => {
          this.waiting.delete(id);
          this.timedOut++;
          resolve({ id, ok: false, status: 504, error: 'deadline exceeded: no reply from a worker in time' });
        },
        Math.max(0, deadline - Date.now()),
      );
      this.waiting.set(id, { resolve, timer, since: Date.now(), tag });
    });
  }

  /**
   * Ends a wait early because its caller went away (499, nginx's "client closed request").
   * Returns false when the wait had already ended.
   */
  cancel(id: string): boolean {
    return this.deliver({ id, ok: false, status: 499, error: 'client closed the request' });
  }

  /** Resolves the caller waiting for this reply; false when nobody waits for it any more. */
  deliver(reply: ScoringReply): boolean {
    const w = this.waiting.get(reply.id);
    if (!w) {
      this.unmatched++;
      return false;
    }
    this.waiting.delete(reply.id);
    clearTimeout(w.timer);
    w.resolve(reply);
    return true;
  }

  /** Ids that have waited longer than `ms`: candidates for a missed-reply check. */
  waitingLongerThan(ms: number): { id: string; tag?: T }[] {
    const cutoff = Date.now() - ms;
    const found: { id: string; tag?: T }[] = [];
    for (const [id, w] of this.waiting) if (w.since <= cutoff) found.push({ id, tag: w.tag });
    return found;
  }

  /** Resolves once nobody waits any more (graceful shutdown); waits end by their deadlines. */
  async drained(pollMs = 50): Promise<void> {
    while (this.waiting.size > 0) await new Promise((r) => setTimeout(r, pollMs));
  }
}
