import type { CatalogEntry, ScoringTransport, WorkerAnnouncement, WorkerStatsSnapshot } from '#runtime';
import { mergeWindows, quantileMs } from '#telemetry';

/** One worker as the status page shows it. */
export interface WorkerStatus {
  id: string;
  host: string;
  device: string;
  versions: string[];
  /** ms since its last heartbeat. */
  heartbeat_age_ms: number;
  /** Jobs per second it answered over the window. */
  throughput_rps: number;
}

/** One queue (deployment) as the status page shows it. */
export interface QueueStatus {
  queue: string;
  model: string;
  /** Jobs waiting for a worker (the API's sampled estimate). */
  queue_depth: number;
  /** Live workers (heartbeat within the live window). */
  workers: number;
  /** Versions the live workers serve. */
  versions: string[];
  /** Seconds the throughput and latency cover. */
  window_s: number;
  /** Jobs answered per second, any outcome, over the window. */
  throughput_rps: number;
  /** Latency from acceptance by the API to the worker's reply, succeeded jobs of the window. */
  latency_ms: { p50: number | null; p99: number | null };
  /** Items per batch execution over the window. */
  mean_batch_size: number | null;
  /** Jobs answered since the live workers started, by outcome. */
  totals: WorkerStatsSnapshot['total'];
  worker_details: WorkerStatus[];
}

export interface StatusReport {
  generated_at: string;
  mode: 'distributed' | 'embedded';
  queues: QueueStatus[];
}

/**
 * Builds the status report: per queue, depth and workers from the catalog, and throughput,
 * latency quantiles and batch sizes from the workers' heartbeat stats (summed over workers:
 * their latency buckets add up). Embedded, the in-process stats stand in for heartbeats.
 */
export async function statusReport(
  transport: ScoringTransport,
  localStats: (queue: string) => WorkerStatsSnapshot | undefined,
): Promise<StatusReport> {
  const catalog = await transport.catalog();
  const embedded = transport.replyTo === 'embedded';
  const queues = [...catalog]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([queue, entry]) =>
      queueStatus(queue, entry, transport.queueDepth(queue), embedded ? localStats(queue) : undefined),
    );
  return { generated_at: new Date().toISOString(), mode: embedded ? 'embedded' : 'distributed', queues };
}

function queueStatus(
  queue: string,
  entry: CatalogEntry,
  depth: number,
  local: WorkerStatsSnapshot | undefined,
): QueueStatus {
  const now = Date.now();
  const workers: { ann?: WorkerAnnouncement; stats?: WorkerStatsSnapshot }[] = entry.workers
    ? entry.workers.map((ann) => ({ ann, stats: ann.stats }))
    : [{ stats: local }];
  const snapshots = workers.map((w) => w.stats).filter((s): s is WorkerStatsSnapshot => s !== undefined);
  const window = mergeWindows(snapshots.map((s) => s.window));
  const seconds = window?.seconds ?? 60;
  const totals = { succeeded: 0, failed: 0, expired: 0, cancelled: 0 };
  for (const s of snapshots) for (const k of Object.keys(totals) as (keyof typeof totals)[]) totals[k] += s.total[k];
  const quantile = (q: number): number | null =>
    window ? round(quantileMs(window.latencyBoundsMs, window.latencyCounts, q)) : null;
  const versions = new Set<string>();
  for (const w of workers) for (const v of w.ann?.metadata.versions ?? entry.metadata.versions) versions.add(v);
  return {
    queue,
    model: entry.metadata.name,
    queue_depth: depth,
    workers: entry.liveWorkers,
    versions: [...versions].sort((a, b) => Number(b) - Number(a)),
    window_s: seconds,
    throughput_rps: round((window?.jobs ?? 0) / seconds) ?? 0,
    latency_ms: { p50: quantile(0.5), p99: quantile(0.99) },
    mean_batch_size: window && window.batches > 0 ? round(window.batchItems / window.batches) : null,
    totals,
    worker_details: workers.flatMap(({ ann, stats }) =>
      ann
        ? [
            {
              id: ann.workerId,
              host: ann.host,
              device: ann.device,
              versions: ann.metadata.versions,
              heartbeat_age_ms: now - ann.heartbeatAt,
              throughput_rps: round((stats?.window.jobs ?? 0) / (stats?.window.seconds ?? 60)) ?? 0,
            },
          ]
        : [],
    ),
  };
}

function round(value: number | undefined): number | null {
  return value === undefined || !Number.isFinite(value) ? null : Math.round(value * 100) / 100;
}
