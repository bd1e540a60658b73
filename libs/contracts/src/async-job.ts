import type { ScoringReply } from './scoring-job.js';

/** Where an async job is: `queued` → `running` → `succeeded` | `failed` | `expired`. */
export type AsyncJobStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'expired';

/** Which route accepted an async job; decides the shape of its `result`. */
export type AsyncJobProtocol = 'oip' | 'predict' | 'rpc';

/** What is stored when an async job is accepted (`<prefix>:_job:<id>`, field `record`). */
export interface AsyncJobRecord {
  id: string;
  model: string;
  /** Version asked for; the served version is in the outcome. */
  version?: string;
  /** The queue that carries the job, when not the model's own. */
  queue?: string;
  protocol: AsyncJobProtocol;
  /** OIP request id, echoed in the result. */
  requestId?: string;
  /** Epoch ms. */
  createdAt: number;
  /** Absolute deadline (epoch ms): after it (and a short grace) the job is `expired`. */
  deadline: number;
  /** Seconds the outcome is kept once written. */
  ttlS: number;
  /** Webhook target, already checked against the allow-list. */
  callbackUrl?: string;
}

/**
 * The outcome of an async job, written once: by the worker, or by whoever first sees the
 * deadline pass without one. Later writes are ignored, so the status never changes again.
 */
export interface AsyncJobOutcome {
  /** Epoch ms. */
  finishedAt: number;
  reply: ScoringReply;
}

/** `GET /v1/jobs/{id}`, and the body of a webhook delivery. */
export interface JobStatusBody {
  id: string;
  status: AsyncJobStatus;
  model: string;
  version?: string;
  /** When `succeeded`: the body the synchronous route would have answered. */
  result?: unknown;
  /** When `failed` or `expired`. */
  error?: string;
  /** ISO 8601. */
  created_at: string;
  /** ISO 8601, once finished. */
  finished_at?: string;
}

/** The `202 Accepted` body of an async scoring request. */
export interface AsyncAcceptedBody {
  id: string;
  status: 'queued';
  /** `/v1/jobs/{id}`, also sent as the `Location` header. */
  location: string;
}
