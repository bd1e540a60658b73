import type { ScoringJob, ScoringReply } from '../../../contracts/src/index.js';
import type { ModelServer } from '../serving/model-server.js';
import { ReplyWaiter } from './reply-waiter.js';
import type { CallerGone, CatalogEntry, ScoringTransport } from './scoring-transport.js';

/**
 * One process, no Redis: jobs go straight to the in-process model servers. Same batcher,
 * same handlers, same deadline and cancellation handling as the distributed topology.
 */
export class EmbeddedTransport implements ScoringTransport {
  readonly replyTo = 'embedded';
  private readonly waiter = new ReplyWaiter();
  private readonly entries: Map<string, CatalogEntry>;
  /** Jobs handed to each model server and not answered yet. */
  private readonly pending = new Map<string, number>();
  private closing = false;

  constructor(
    private readonly servers: Map<string, ModelServer>,
    /** Jobs one model server should hold at once, as a worker's concurrency would be. */
    capacityOf: (server: ModelServer) => number,
  ) {
    this.entries = new Map(
      [...servers].map(([name, s]) => [name, { metadata: s.model.metadata, liveWorkers: 1, capacity: capacityOf(s) }]),
    );
  }

  /** The in-process model servers, by model (telemetry reads them). */
  get modelServers(): ReadonlyMap<string, ModelServer> {
    return this.servers;
  }

  get inFlight(): number {
    return this.waiter.size;
  }

  submit(job: ScoringJob, gone?: CallerGone): Promise<ScoringReply> {
    const server = this.servers.get(job.model);
    if (this.closing || !server) {
      return Promise.resolve({ id: job.id, ok: false, status: 503, error: `model '${job.model}' is not being served` });
    }
    if (gone?.aborted)
      return Promise.resolve({ id: job.id, ok: false, status: 499, error: 'client closed the request' });
    const reply = this.waiter.wait(job.id, job.deadline);
    this.pending.set(job.model, (this.pending.get(job.model) ?? 0) + 1);
    void server.handle(job).then((r) => {
      this.pending.set(job.model, this.pending.get(job.model)! - 1);
      this.waiter.deliver(r);
    });
    gone?.addEventListener('abort', () => this.waiter.cancel(job.id) && server.cancel(job.id), { once: true });
    return reply;
  }

  queueDepth(model: string): number {
    return this.pending.get(model) ?? 0;
  }

  async catalog(): Promise<Map<string, CatalogEntry>> {
    return this.entries;
  }

  isHealthy(): boolean {
    return !this.closing;
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.waiter.drained();
    await Promise.all([...this.servers.values()].map((s) => s.model.release()));
  }
}
