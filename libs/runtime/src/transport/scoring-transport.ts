import type { ModelMetadata, ScoringJob, ScoringReply } from '../../../contracts/src/index.js';
import type { WorkerAnnouncement } from './worker-announcement.js';

/** What the API knows about a model from the workers that serve it. */
export interface CatalogEntry {
  metadata: ModelMetadata;
  /** Workers that announced themselves recently. 0: known but not ready. */
  liveWorkers: number;
  /** Jobs the live workers hold at once, summed: the base of the default queue bound. */
  capacity: number;
  /** The live workers' announcements (distributed mode), for the status page. */
  workers?: WorkerAnnouncement[];
}

/**
 * The caller going away, as a transport watches for it: an AbortSignal is one, and so is the
 * lighter object the API makes per request (an AbortController costs it ~4 µs, measured).
 */
export interface CallerGone {
  readonly aborted: boolean;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
}

/**
 * How the API reaches workers. Embedded and Redis transports share the batcher and handlers;
 * only this differs. `submit` always resolves, by the job's deadline at the latest.
 */
export interface ScoringTransport {
  /** The reply channel jobs of this instance name. */
  readonly replyTo: string;
  /**
   * Enqueues the job and resolves with its reply. When `gone` aborts (the client went away)
   * the job is removed if it still waits, or skipped by the worker, and the wait ends.
   */
  submit(job: ScoringJob, gone?: CallerGone): Promise<ScoringReply>;
  /** Models known to this transport, by name. */
  catalog(): Promise<Map<string, CatalogEntry>>;
  /** Jobs waiting for a worker (an estimate, read without a round trip on the request path). */
  queueDepth(model: string): number;
  /** Requests of this instance waiting for a reply. */
  readonly inFlight: number;
  /** Dependencies reachable (Redis up, or embedded models loaded). */
  isHealthy(): boolean;
  /** Stops taking jobs and waits (bounded by deadlines) for those in flight. */
  close(): Promise<void>;
}

export const SCORING_TRANSPORT = Symbol('SCORING_TRANSPORT');
