import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeLimitRuns, fastest, meanOf, otherArrangements } from '../../bench/in-process.js';
import { judgeTargets, throttleNote } from '../../bench/targets.js';
import type { RunRecord } from '../../bench/types.js';
import {
  cpuGot,
  cpuShares,
  describeCheck,
  parseCpuTicks,
  spinProbe,
  throttledShare,
  throttledWarning,
  type MachineCheck,
} from '../../bench/machine-check.js';

const STAT = `cpu  91805 0 50984 55931 2303 0 19236 29957 0 0
cpu0 45000 0 25000 28000 1000 0 9000 15000 0 0
intr 123
`;

const healthy: MachineCheck = {
  accounted: 0.99,
  steal: 0.01,
  probes: [
    { when: 'start', wallMs: 1000, ran: 0.998, longestStallMs: 1.5 },
    { when: 'end', wallMs: 1000, ran: 0.995, longestStallMs: 3 },
  ],
};

describe('bench machine check', () => {
  it('reads the aggregate cpu line of /proc/stat: all eight states, steal last', () => {
    assert.deepEqual(parseCpuTicks(STAT), {
      total: 91805 + 50984 + 55931 + 2303 + 19236 + 29957,
      steal: 29957,
    });
    assert.equal(parseCpuTicks('intr 1\n'), undefined);
    assert.equal(parseCpuTicks('cpu  1 2 x 4 5 6 7 8\n'), undefined);
  });

  it('divides the accounted ticks by what the cores could have accounted in the wall time', () => {
    // 10 s on 2 cores at 100 ticks/s = 2000 possible ticks; 1000 accounted, 100 of them steal.
    const shares = cpuShares({ total: 5000, steal: 50 }, { total: 6000, steal: 150 }, 10_000, 2);
    assert.equal(shares.accounted, 0.5);
    assert.equal(shares.steal, 0.05);
  });

  it('says nothing about a machine that gave the run its CPU', () => {
    assert.equal(throttledWarning(healthy), undefined);
    assert.equal(throttledWarning(undefined), undefined);
    assert.match(describeCheck(healthy), /accounted over the run 99% .*steal 1%.*busy loop at the start: ran 100%/);
  });

  it('warns when the kernel accounted too little of the wall time', () => {
    const warning = throttledWarning({ ...healthy, accounted: 0.5, steal: 0.04 });
    assert.match(warning ?? '', /throttled.*accounted 50% .*steal 4%.*not representative/);
  });

  it('warns when a busy loop was stalled, naming the probe and its longest stall', () => {
    const stalled = {
      ...healthy,
      probes: [healthy.probes[0]!, { when: 'end' as const, wallMs: 1000, ran: 0.97, longestStallMs: 804 }],
    };
    const warning = throttledWarning(stalled) ?? '';
    assert.match(warning, /busy loop at the end ran 97% of 1\.0 s \(longest stall 804 ms\)/);
    assert.doesNotMatch(warning, /at the start/);
    const slow = { ...healthy, probes: [{ when: 'start' as const, wallMs: 1000, ran: 0.6, longestStallMs: 40 }] };
    assert.match(throttledWarning(slow) ?? '', /at the start ran 60%/);
  });

  it('spins for the time asked and reports shares between 0 and 1', () => {
    const probe = spinProbe('start', 50);
    assert.equal(probe.when, 'start');
    assert.ok(probe.wallMs >= 50, `wall ${probe.wallMs}`);
    assert.ok(probe.ran >= 0 && probe.ran <= 1, `ran ${probe.ran}`);
    assert.ok(probe.longestStallMs >= 0 && probe.longestStallMs <= probe.wallMs);
  });

  it('counts steal as CPU the guest did not get', () => {
    assert.equal(cpuGot({ accounted: 1, steal: 0.25 }), 0.75);
    assert.equal(throttledShare({ accounted: 1, steal: 0.25 }), true, 'a host that reports steal');
    assert.equal(throttledShare({ accounted: 0.6, steal: 0 }), true, 'a host that accounts nothing');
    assert.equal(throttledShare({ accounted: 0.99, steal: 0.02 }), false);
    assert.match(throttledWarning({ accounted: 1, steal: 0.3, probes: [] }) ?? '', /steal 30%/);
  });

  it('marks the targets whose runs the host throttled, and only those', () => {
    const run = (series: string, c: number, throughput: number, got: number): RunRecord => ({
      model: 'faq',
      system: series === 'naive' ? 'naive' : 'switchyard',
      route: 'friendly',
      series,
      load: { connections: c, throughput, ok: 100, latencyMs: { p50: 0.9, p90: 1, p99: 2 } } as RunRecord['load'],
      cpuUs: { front: 1, loadgen: 1 },
      cpuShare: { accounted: got, steal: 0 },
    });
    assert.equal(throttleNote([run('naive', 32, 1000, 0.97), undefined]), '');
    const targets = judgeTargets({
      models: [
        {
          model: 'faq',
          runs: [run('switchyard', 32, 3000, 0.98), run('naive', 32, 1000, 0.52), run('switchyard', 1, 900, 0.99)],
        },
      ],
    });
    const naive = targets.find((t) => t.name.includes('naive'))!;
    assert.equal(naive.pass, true, 'still judged on what was measured');
    assert.match(naive.detail, /3\.00× — not representative: the host took the CPU away during naive c=32 got 52%$/);
    const latency = targets.find((t) => t.name.includes('c=1'))!;
    assert.doesNotMatch(latency.detail, /not representative/);
  });

  it('sets the Redis target beside what a bare request/reply through Redis costs at the c=1 pace', () => {
    const run = (c: number, cpuUs: number): RunRecord => ({
      model: 'faq',
      system: 'switchyard',
      route: 'friendly',
      series: 'switchyard',
      load: { connections: c, throughput: 800, ok: 100, latencyMs: { p50: 1, p90: 1, p99: 2 } } as RunRecord['load'],
      cpuUs: { front: 1, loadgen: 1 },
      redis: { cpuUs } as RunRecord['redis'],
    });
    const baseline = {
      periodMs: 1.25,
      roundTrips: 2000,
      cpuUs: 131,
      roundTripUs: 400,
      requestBytes: 300,
      replyBytes: 2000,
    };
    const [withBaseline, without] = [baseline, undefined].map((redisBaseline) =>
      judgeTargets({ models: [{ model: 'faq', runs: [run(1, 140), run(8, 50)], redisBaseline }] }).find((t) =>
        t.name.startsWith('Redis CPU'),
      )!,
    );
    assert.equal(withBaseline!.pass, false, 'judged on the target, not on the baseline');
    assert.equal(
      withBaseline!.detail,
      'c=1: 140 µs, c=8: 50 µs (a bare request/reply through Redis at the c=1 pace: 131 µs)',
    );
    assert.equal(without!.detail, 'c=1: 140 µs, c=8: 50 µs');
  });
  it('sets ResNet-50 beside what (a) gets with another core busy, without judging on it', () => {
    const point = (batch: number, itemsPerS: number) => ({
      batch,
      itemsPerS,
      msPerRun: (batch * 1000) / itemsPerS,
      runs: 5,
    });
    const run: RunRecord = {
      model: 'resnet50',
      system: 'switchyard',
      route: 'friendly',
      series: 'switchyard',
      load: { connections: 128, throughput: 18, ok: 100, latencyMs: { p50: 1, p90: 1, p99: 2 } } as RunRecord['load'],
      cpuUs: { front: 1, loadgen: 1 },
    };
    const inProcess = {
      model: 'resnet50',
      arrangement: { sessions: 1, threads: 1 },
      maxBatchSize: 8,
      points: [point(2, 24)],
      best: point(2, 24),
      bestAllowed: point(2, 24),
      others: [{ ...point(2, 23), sessions: 1, threads: 2 }],
      limit: { ...point(2, 24), sessions: 1, threads: 1 },
      limitRuns: [point(2, 24)],
      prepareItemsPerS: 150,
    };
    const judge = (besideBusyCore?: ReturnType<typeof point>, runs = [run]) =>
      judgeTargets({ models: [{ model: 'resnet50', runs, inProcess: { ...inProcess, besideBusyCore } }] }).find((t) =>
        t.name.startsWith('ResNet-50'),
      )!;
    const beside = judge(point(2, 20));
    assert.equal(beside.pass, false, 'judged on (a) alone: 75%');
    assert.equal(
      beside.detail,
      'JPEG input (decoded and resized per request, which (a) leaves out): 18.0 req/s at c=128 = 75.0% of 24.0 items/s ' +
        "(batch 2, 1 session × 1 thread, 1 run of 0.4 s; the short points' best: 24.0); judged: 75.0% (vs best batch ≤ max_batch_size (2): 75%); " +
        '(a) beside a busy core: 20.0 items/s, of which this is 90%',
    );
    assert.doesNotMatch(judge().detail, /busy core/, 'nothing said when it was not measured');
    // With the tensor series measured, it is the one judged: it computes what (a) computes.
    const tensor: RunRecord = {
      ...run,
      route: 'oip',
      series: 'switchyard-oip',
      load: { ...run.load, connections: 32, throughput: 22 },
    };
    const both = judge(undefined, [run, tensor]);
    assert.equal(both.pass, true, '22 of 24 is 91.7%');
    assert.match(
      both.detail,
      /^tensor input \(OIP, binary\): 22.0 req\/s at c=32 = 91.7%; JPEG input .* 18.0 req\/s at c=128 = 75.0% of 24.0/,
    );
    assert.match(both.detail, /judged: 91.7%/);
    // The limit is the point measured again at length, not the best of the short points.
    const sustained = judgeTargets({
      models: [
        {
          model: 'resnet50',
          runs: [run, tensor],
          inProcess: {
            ...inProcess,
            others: [{ ...point(4, 50), sessions: 2, threads: 1 }],
            limit: { ...point(4, 44), sessions: 2, threads: 1 },
            limitRuns: [point(4, 44)],
          },
        },
      ],
    }).find((t) => t.name.startsWith('ResNet-50'))!;
    assert.equal(sustained.pass, false, '22 of 44 is 50%');
    assert.match(
      sustained.detail,
      /of 44\.0 items\/s \(batch 4, 2 sessions × 1 thread, 1 run of 0\.2 s; the short points' best: 50\.0\); judged: 50.0%/,
    );
  });
  it('takes the limit as the mean of its runs beside the served systems, and says how they spread', () => {
    const run = (itemsPerS: number) => ({ batch: 4, itemsPerS, msPerRun: 4000 / itemsPerS, runs: 50 });
    const limitRuns = [run(40), run(50), run(30)];
    const limit = Object.assign(meanOf(limitRuns), { sessions: 2, threads: 1 });
    assert.deepEqual(
      [limit.batch, limit.itemsPerS, limit.runs],
      [4, 40, 150],
      'mean items/s, runs summed, the batch kept',
    );
    // 50 runs of 100, 80 and 133 ms on two sessions at once: 2.5 + 2 + 3.3 s.
    assert.equal(describeLimitRuns({ limit, limitRuns }), 'mean of 3 runs over 7.8 s: 30.0–50.0 items/s');
    assert.equal(
      describeLimitRuns({ limit: Object.assign(run(40), { sessions: 1, threads: 2 }), limitRuns: [run(40)] }),
      '1 run of 5.0 s',
    );
  });
  it('measures the other arrangements a config can ask for, and takes the fastest as the limit', () => {
    assert.deepEqual(otherArrangements({ sessions: 1, threads: 1 }, 2), [
      { sessions: 1, threads: 2 },
      { sessions: 2, threads: 1 },
    ]);
    assert.deepEqual(otherArrangements({ sessions: 2, threads: 1 }, 2), [{ sessions: 1, threads: 2 }]);
    assert.deepEqual(otherArrangements({ sessions: 1, threads: 1 }, 1), [], 'one core: nothing else to try');
    const point = (itemsPerS: number, sessions: number) => ({
      batch: 4,
      itemsPerS,
      msPerRun: 1,
      runs: 5,
      sessions,
      threads: 1,
    });
    const config = point(24, 1);
    assert.equal(fastest(config, [point(43, 1), point(46, 2)]).itemsPerS, 46);
    assert.equal(fastest(config, [point(24, 2)]), config, "a tie keeps the config's own");
  });
});
