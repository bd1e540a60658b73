import type { InProcessResult } from './in-process.js';
import type { MachineCheck } from './machine-check.js';
import type { LoadResult } from './load.js';
import type { RedisPerRequest } from './redis.js';
import type { RedisBaseline } from './redis-baseline.js';
import type { SystemName } from './systems.js';

/** CPU time per successful request, µs, by process (from /proc and Redis INFO cpu). */
export interface CpuPerRequest {
  /** The API (Switchyard, embedded) or the naive server. */
  front: number;
  /** The worker, when inference runs in a separate process. */
  back?: number;
  redis?: number;
  /** The load generator (this process). */
  loadgen: number;
}

/** One measured load run of one system, route and concurrency. */
export interface RunRecord {
  model: string;
  system: SystemName;
  route: 'friendly' | 'oip';
  /** `system` or `system-oip`: the series name in tables and the chart. */
  series: string;
  load: LoadResult;
  cpuUs: CpuPerRequest;
  /** Only for systems that use Redis. */
  redis?: RedisPerRequest;
  /**
   * Share of the cores' wall time the kernel accounted during the run, and of it steal (see
   * MachineCheck): below 0.9 the host took the CPU away and the run is not representative.
   */
  cpuShare?: { accounted: number; steal: number };
}

export interface ModelReport {
  model: string;
  /** Why this model was not measured. */
  skipped?: string;
  inProcess?: InProcessResult;
  runs: RunRecord[];
  /** FAQ: what a bare request/reply through Redis costs Redis at Switchyard's c=1 pace. */
  redisBaseline?: RedisBaseline;
}

/** One cell of the FAQ batching sweep. */
export interface SweepCell {
  maxBatchSize: number;
  maxQueueDelayMs: number;
  load: LoadResult;
  /** Redis work per request in this cell. */
  redis?: RedisPerRequest;
  /** Worker CPU µs per request. */
  workerCpuUs?: number;
  error?: string;
}

export interface TargetResult {
  name: string;
  pass: boolean | null;
  /** The measured value against the target, in words. */
  detail: string;
}

/** Everything report.json holds. */
export interface BenchReport {
  version: 1;
  startedAt: string;
  finishedAt: string;
  options: { smoke: boolean; durationS: number; warmupS: number; concurrency: number[]; parts: string[] };
  machine: {
    cpus: number;
    cpuModel: string;
    node: string;
    redis: string;
    privateRedis: boolean;
    loadAverageBefore: number[];
    loadAverageAfter: number[];
    /** Whether the machine gave the run its CPU (absent from reports of older versions). */
    check?: MachineCheck;
  };
  /** How the numbers are obtained, in words, for the report. */
  method: string[];
  models: ModelReport[];
  sweep?: { connections: number; cells: SweepCell[] };
  targets: TargetResult[];
}
