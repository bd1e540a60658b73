import type { JobOutcome, WorkerStatsSnapshot } from '../../../runtime/src/index.js';

/** Upper bounds (ms) of the latency buckets heartbeats carry: about 1.5× apart, 0.5 ms to 60 s. */
export const LATENCY_BOUNDS_MS = [
  0.5, 1, 1.5, 2, 3, 5, 7.5, 10, 15, 20, 30, 50, 75, 100, 150, 200, 300, 500, 750, 1000, 1500, 2000, 3000, 5000, 7500,
  10_000, 20_000, 60_000,
];

interface Slot {
  second: number;
  jobs: number;
  succeeded: number;
  latency: number[];
  batches: number;
  batchItems: number;
}

type Window = WorkerStatsSnapshot['window'];

/**
 * Counts of the last `seconds` seconds in one-second slots, cheap to update on the hot path
 * and small enough to travel in every heartbeat. Latencies are bucketed, so windows of several
 * workers merge by adding counts.
 */
export class RollingStats {
  private readonly slots: Slot[];
  readonly total = { succeeded: 0, failed: 0, expired: 0, cancelled: 0 };

  constructor(
    readonly seconds = 60,
    private readonly bounds: number[] = LATENCY_BOUNDS_MS,
    private readonly now: () => number = Date.now,
  ) {
    this.slots = Array.from({ length: seconds }, () => emptySlot(-1, bounds.length + 1));
  }

  recordJob(outcome: JobOutcome, latencyMs?: number): void {
    this.total[outcome]++;
    const slot = this.slot();
    slot.jobs++;
    if (outcome !== 'succeeded') return;
    slot.succeeded++;
    if (latencyMs !== undefined) slot.latency[bucketOf(this.bounds, latencyMs)]!++;
  }

  recordBatch(items: number): void {
    const slot = this.slot();
    slot.batches++;
    slot.batchItems += items;
  }

  snapshot(): WorkerStatsSnapshot {
    const oldest = this.second() - this.seconds + 1;
    const window: Window = {
      seconds: this.seconds,
      jobs: 0,
      succeeded: 0,
      latencyBoundsMs: this.bounds,
      latencyCounts: new Array<number>(this.bounds.length + 1).fill(0),
      batches: 0,
      batchItems: 0,
    };
    for (const s of this.slots) {
      if (s.second < oldest) continue;
      window.jobs += s.jobs;
      window.succeeded += s.succeeded;
      window.batches += s.batches;
      window.batchItems += s.batchItems;
      s.latency.forEach((n, i) => (window.latencyCounts[i]! += n));
    }
    return { total: { ...this.total }, window };
  }

  private second(): number {
    return Math.floor(this.now() / 1000);
  }

  private slot(): Slot {
    const second = this.second();
    const index = second % this.seconds;
    let slot = this.slots[index]!;
    if (slot.second !== second) {
      slot = emptySlot(second, this.bounds.length + 1);
      this.slots[index] = slot;
    }
    return slot;
  }
}

/** Adds windows of several workers (same bounds) into one. */
export function mergeWindows(windows: Window[]): Window | undefined {
  const [first, ...rest] = windows;
  if (!first) return undefined;
  const merged: Window = { ...first, latencyCounts: [...first.latencyCounts] };
  for (const w of rest) {
    if (w.latencyBoundsMs.join() !== merged.latencyBoundsMs.join()) continue; // another release's buckets
    merged.jobs += w.jobs;
    merged.succeeded += w.succeeded;
    merged.batches += w.batches;
    merged.batchItems += w.batchItems;
    w.latencyCounts.forEach((n, i) => (merged.latencyCounts[i]! += n));
  }
  return merged;
}

/**
 * The q-quantile (0..1) of bucketed latencies, interpolated linearly inside its bucket;
 * undefined without samples. The open last bucket reports its lower bound.
 */
export function quantileMs(bounds: number[], counts: number[], q: number): number | undefined {
  const total = counts.reduce((a, b) => a + b, 0);
  if (total === 0) return undefined;
  const rank = q * total;
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    const n = counts[i]!;
    if (n > 0 && seen + n >= rank) {
      const lower = i === 0 ? 0 : bounds[i - 1]!;
      if (i >= bounds.length) return lower;
      return lower + ((bounds[i]! - lower) * (rank - seen)) / n;
    }
    seen += n;
  }
  return bounds[bounds.length - 1];
}

function bucketOf(bounds: number[], value: number): number {
  let lo = 0;
  let hi = bounds.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (value <= bounds[mid]!) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

function emptySlot(second: number, buckets: number): Slot {
  return { second, jobs: 0, succeeded: 0, latency: new Array<number>(buckets).fill(0), batches: 0, batchItems: 0 };
}
