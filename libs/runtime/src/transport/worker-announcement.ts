import type { ModelMetadata } from '../../../contracts/src/index.js';

/** What each worker writes into the catalog hash of its model, every heartbeat. */
export interface WorkerAnnouncement {
  workerId: string;
  metadata: ModelMetadata;
  /** Epoch ms of the last heartbeat. */
  heartbeatAt: number;
  state: 'ready' | 'stopping';
  device: string;
  /** Jobs this worker holds at once. */
  concurrency: number;
  pid: number;
  host: string;
  /** Recent activity for the API's status page (absent from workers without telemetry). */
  stats?: WorkerStatsSnapshot;
}

/** A worker's activity as its heartbeat carries it. Latencies are from acceptance by the API to reply. */
export interface WorkerStatsSnapshot {
  /** Jobs answered since the worker started, by outcome. */
  total: { succeeded: number; failed: number; expired: number; cancelled: number };
  /** The last `seconds` seconds. */
  window: {
    seconds: number;
    /** Jobs answered, any outcome. */
    jobs: number;
    succeeded: number;
    /** Upper bounds (ms) of the latency buckets; the last bucket is open-ended. */
    latencyBoundsMs: number[];
    /** Succeeded jobs per latency bucket (`latencyBoundsMs.length + 1` counts). */
    latencyCounts: number[];
    /** Batch executions and the items they ran. */
    batches: number;
    batchItems: number;
  };
}

/** How often workers announce themselves. */
export const HEARTBEAT_MS = 2000;
/** A worker silent for longer is not counted as live (the API's `WORKER_LIVENESS_MS` default). */
export const LIVE_WINDOW_MS = 3 * HEARTBEAT_MS;
/** A worker silent for longer is removed from the catalog. */
export const FORGET_AFTER_MS = 24 * 3600 * 1000;
