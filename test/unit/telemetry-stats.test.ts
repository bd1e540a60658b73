import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LATENCY_BOUNDS_MS, mergeWindows, quantileMs, RollingStats } from '../../libs/telemetry/src/index.js';

describe('RollingStats (heartbeat stats window)', () => {
  it('counts jobs by outcome, batches, and latency buckets of succeeded jobs', () => {
    const stats = new RollingStats(60);
    stats.recordJob('succeeded', 4);
    stats.recordJob('succeeded', 40);
    stats.recordJob('failed');
    stats.recordJob('expired');
    stats.recordBatch(3);
    stats.recordBatch(1);
    const snap = stats.snapshot();
    assert.deepEqual(snap.total, { succeeded: 2, failed: 1, expired: 1, cancelled: 0 });
    assert.equal(snap.window.jobs, 4);
    assert.equal(snap.window.succeeded, 2);
    assert.equal(snap.window.batches, 2);
    assert.equal(snap.window.batchItems, 4);
    assert.equal(
      snap.window.latencyCounts.reduce((a, b) => a + b, 0),
      2,
    );
    assert.equal(snap.window.latencyCounts.length, LATENCY_BOUNDS_MS.length + 1);
  });

  it('forgets what is older than the window, keeps the totals', () => {
    let now = 1_000_000;
    const stats = new RollingStats(10, LATENCY_BOUNDS_MS, () => now);
    stats.recordJob('succeeded', 5);
    now += 5_000;
    stats.recordJob('succeeded', 5);
    assert.equal(stats.snapshot().window.jobs, 2);
    now += 7_000; // the first job is 12 s old now
    assert.equal(stats.snapshot().window.jobs, 1);
    now += 60_000;
    stats.recordJob('cancelled');
    const snap = stats.snapshot();
    assert.equal(snap.window.jobs, 1);
    assert.equal(snap.total.succeeded, 2);
    assert.equal(snap.total.cancelled, 1);
  });

  it('estimates quantiles from buckets and merges the windows of several workers', () => {
    const a = new RollingStats();
    const b = new RollingStats();
    for (let i = 0; i < 98; i++) a.recordJob('succeeded', 4);
    b.recordJob('succeeded', 900);
    b.recordJob('succeeded', 900);
    const merged = mergeWindows([a.snapshot().window, b.snapshot().window])!;
    assert.equal(merged.succeeded, 100);
    const p50 = quantileMs(merged.latencyBoundsMs, merged.latencyCounts, 0.5)!;
    const p99 = quantileMs(merged.latencyBoundsMs, merged.latencyCounts, 0.99)!;
    assert.ok(p50 > 3 && p50 <= 5, `p50 ${p50}`);
    assert.ok(p99 > 750 && p99 <= 1000, `p99 ${p99}`);
    assert.equal(quantileMs([1, 2], [0, 0, 0], 0.5), undefined);
    assert.equal(mergeWindows([]), undefined);
  });
});
