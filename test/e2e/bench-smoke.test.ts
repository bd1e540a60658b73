import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { REDIS_URL } from './support/redis.js';

/** The parts of bench/results/<t>/report.json this test relies on. */
interface SmokeReport {
  options: { smoke: boolean; concurrency: number[] };
  models: {
    model: string;
    inProcess?: {
      best: { itemsPerS: number; batch: number };
      besideBusyCore?: { itemsPerS: number; batch: number };
      limit: { itemsPerS: number; batch: number };
      limitRuns: { itemsPerS: number; batch: number }[];
    };
    runs: { series: string; load: { connections: number; throughput: number; ok: number } }[];
    redisBaseline?: { periodMs: number; roundTrips: number; cpuUs: number };
  }[];
  targets: { name: string; pass: boolean | null; detail: string }[];
  machine: { check?: { accounted?: number; probes: { when: string; ran: number }[] } };
}

/**
 * `npm run bench -- --smoke` end to end: it starts its own API, worker, embedded API and naive
 * queue processes, drives load, and writes its report. Only the structure and non-zero
 * throughput are checked, never a performance threshold.
 */
describe('benchmark (--smoke)', () => {
  const out = mkdtempSync(join(tmpdir(), 'sy-bench-'));
  after(() => rmSync(out, { recursive: true, force: true }));

  it('runs, exits 0 and writes report.json, report.md and chart.svg', { timeout: 600_000 }, async () => {
    const child = spawn(
      process.execPath,
      [resolve('dist/bench/run.js'), '--smoke', '--out', out, '--redis-url', REDIS_URL],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const code = await new Promise<number | null>((res) => child.once('exit', res));
    assert.equal(code, 0, output);
    assert.match(output, /\[faq\] switchyard/, 'progress lines on stdout');
    for (const file of ['report.json', 'report.md', 'chart.svg']) assert.ok(existsSync(join(out, file)), file);

    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as SmokeReport;
    assert.equal(report.options.smoke, true);
    assert.deepEqual(report.options.concurrency, [1, 8]);
    assert.deepEqual(
      report.models.map((m) => m.model),
      ['faq'],
    );
    const faq = report.models[0]!;
    assert.ok(faq.inProcess && faq.inProcess.best.itemsPerS > 0, 'in-process reference measured');
    // Beside a busy core: the best batch size again, measured (this machine has two cores).
    assert.equal(faq.inProcess.besideBusyCore?.batch, faq.inProcess.best.batch);
    assert.ok(faq.inProcess.besideBusyCore.itemsPerS > 0, 'measured beside a busy core');
    assert.match(
      readFileSync(join(out, 'report.md'), 'utf8'),
      /beside a busy core \(another process spinning\) at batch/,
    );
    // The limit was measured once after the batch sizes and again in each of the four turns (two
    // routes × two levels) of the served systems' runs; it is their mean.
    const { limit, limitRuns } = faq.inProcess;
    assert.equal(limitRuns.length, 5);
    assert.ok(limitRuns.every((p) => p.itemsPerS > 0 && p.batch === limit.batch));
    const mean = limitRuns.reduce((sum, p) => sum + p.itemsPerS, 0) / limitRuns.length;
    assert.ok(Math.abs(limit.itemsPerS - mean) < 1e-6, 'the limit is the mean of its runs');
    assert.match(
      readFileSync(join(out, 'report.md'), 'utf8'),
      /in each turn of the served systems' runs \(mean of 5 runs/,
    );
    assert.match(output, /\[faq\] \(a\) again: \d+ items\/s/);
    // Every series ran at both levels; each scored requests (summed over the levels, so one
    // starved second on a busy machine does not fail the test).
    for (const series of ['switchyard', 'switchyard-oip', 'embedded', 'embedded-oip', 'naive']) {
      const runs = faq.runs.filter((r) => r.series === series);
      assert.deepEqual(
        runs.map((r) => r.load.connections),
        [1, 8],
        `${series} ran at c=1 and c=8`,
      );
      assert.ok(runs.reduce((n, r) => n + r.load.ok, 0) > 0, `${series} scored requests`);
      assert.ok(
        runs.some((r) => r.load.throughput > 0),
        `${series} has non-zero throughput`,
      );
    }
    // The Redis baseline ran at the pace of Switchyard's c=1 run, and the report says so.
    const c1 = faq.runs.find((r) => r.series === 'switchyard' && r.load.connections === 1)!;
    assert.ok(faq.redisBaseline, 'Redis baseline measured');
    assert.ok(Math.abs(faq.redisBaseline.periodMs - 1000 / c1.load.throughput) < 1e-6, 'at the c=1 pace');
    assert.equal(faq.redisBaseline.roundTrips, 200);
    assert.ok(faq.redisBaseline.cpuUs > 0);
    assert.match(readFileSync(join(out, 'report.md'), 'utf8'), /Redis baseline: a bare request and reply/);
    assert.match(report.targets.find((t) => t.name.startsWith('Redis CPU'))!.detail, /at the c=1 pace: \d+ µs/);
    // The machine check ran at both ends and measured the CPU the kernel accounted over the run.
    const check = report.machine.check;
    assert.deepEqual(
      check?.probes.map((p) => p.when),
      ['start', 'end'],
    );
    assert.ok(check.probes.every((p) => p.ran >= 0 && p.ran <= 1));
    assert.ok(typeof check.accounted === 'number' && check.accounted > 0, 'CPU accounted over the run');
    assert.ok(report.targets.length >= 5);
    for (const t of report.targets) assert.ok(t.pass === null || typeof t.pass === 'boolean', t.name);
    assert.match(readFileSync(join(out, 'chart.svg'), 'utf8'), /^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  });
});
