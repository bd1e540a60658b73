import type { ScoringJob, ScoringReply } from '../../../contracts/src/index.js';

/** How a model server answered a job. */
export type JobOutcome = 'succeeded' | 'failed' | 'expired' | 'cancelled';

/** When one job went through a model server: epoch milliseconds with sub-millisecond precision. */
export interface JobMarks {
  /** The model server got the job (the worker picked it up). */
  receivedAt: number;
  /** Preprocessing ended; the item entered the batcher. */
  preparedAt?: number;
  /** The batch the item ran in started. */
  batchStartedAt?: number;
  /** That batch ended. */
  batchEndedAt?: number;
}

/** One run of the session: a batch of jobs, or one job re-run alone after its batch failed. */
export interface BatchExecution {
  model: string;
  version: string;
  /** Jobs in the batch. */
  jobs: ScoringJob[];
  /** Rows of all jobs together (the batch dimension). */
  rows: number;
  /** Epoch ms when the run started. */
  startedAt: number;
  durationMs: number;
  ok: boolean;
}

/** When a queue consumer handled one job: epoch milliseconds. */
export interface ConsumerMarks {
  pickedUpAt: number;
  /** Absent when the reply was not published (expired or cancelled: nobody waits for it). */
  publishStartedAt?: number;
  publishedAt?: number;
}

/**
 * Hooks the serving path calls so telemetry (metrics, traces, payload capture) can watch it
 * without the runtime knowing about any telemetry library. Every hook is optional, is called
 * synchronously, and must not throw or block.
 */
export interface ServingObserver {
  /** A model server answered a job (any outcome). */
  jobDone?(job: ScoringJob, reply: ScoringReply, outcome: JobOutcome, marks: JobMarks): void;
  /** A batch ran (counts executions against items: Triton's exec_count vs inference_count). */
  batchExecuted?(batch: BatchExecution): void;
  /** A queue consumer took a job; `attempt` > 1 means a re-run after a stalled worker. */
  jobPickedUp?(job: ScoringJob, attempt: number): void;
  /** A queue consumer finished a job, its reply published when anyone waits for it. */
  jobFinished?(job: ScoringJob, reply: ScoringReply, marks: ConsumerMarks): void;
}

let current: ServingObserver | undefined;

/**
 * Installs the process-wide observer that every ModelServer and QueueConsumer reports to
 * (servers swapped in later report too). `undefined` removes it.
 */
export function setServingObserver(observer: ServingObserver | undefined): void {
  current = observer;
}

/** The installed observer, if any. */
export function servingObserver(): ServingObserver | undefined {
  return current;
}

/** Calls a hook, never letting telemetry trouble reach the serving path. */
export function notifyObserver(call: (observer: ServingObserver) => void): void {
  if (!current) return;
  try {
    call(current);
  } catch {
    // Telemetry must never fail a job.
  }
}

/** Epoch milliseconds from the monotonic clock, with sub-millisecond precision. */
export function epochMs(): number {
  return performance.timeOrigin + performance.now();
}

/** The outcome a reply stands for. */
export function outcomeOf(reply: ScoringReply): JobOutcome {
  if (reply.ok) return 'succeeded';
  if (reply.status === 504) return 'expired';
  if (reply.status === 499) return 'cancelled';
  return 'failed';
}
