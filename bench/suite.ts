import { cpus } from 'node:os';
import { describeArrangement, measureInProcess, timeLimitAgain } from './in-process.js';
import { cpuShares, readCpuTicks } from './machine-check.js';
import { runLoad, type LoadResult } from './load.js';
import type { BenchOptions } from './options.js';
import { redisPerRequest, type BenchRedis } from './redis.js';
import { measureRedisBaseline } from './redis-baseline.js';
import type { ModelScenario, RequestShape } from './scenarios.js';
import { sleep } from './services.js';
import { startSystem, type RunningSystem, type SystemName } from './systems.js';
import type { ModelReport, RunRecord } from './types.js';

/** Prints one progress line to stdout. */
export type Log = (line: string) => void;

const SYSTEMS: readonly SystemName[] = ['switchyard', 'embedded', 'naive'];

/**
 * One model, side by side: (a) in-process onnxruntime on the idle machine, then Switchyard,
 * (b) embedded and (c) naive, all running at once and measured in turn at each concurrency
 * level of each route (the order rotating from level to level), so that the host's drift
 * over minutes does not fall between the systems a ratio compares. A system not under load
 * is idle: its heartbeats cost the others nothing measurable.
 */
export async function runModelSuite(
  scenario: ModelScenario,
  options: BenchOptions,
  redis: BenchRedis,
  log: Log,
): Promise<ModelReport> {
  const report: ModelReport = { model: scenario.name, runs: [] };
  const budget = options.smoke ? 0.2 : Math.min(1.5, options.durationS / 4);
  log(`[${scenario.name}] (a) in-process onnxruntime, batch sizes 1..64`);
  report.inProcess = await measureInProcess(scenario, budget, options.smoke ? budget : options.durationS);
  const ip = report.inProcess;
  log(
    `[${scenario.name}] (a) best ${ip.best.itemsPerS.toFixed(0)} items/s at batch ${ip.best.batch} ` +
      `(${describeArrangement(ip.arrangement)}); ` +
      ip.others.map((o) => `${describeArrangement(o)} ${o.itemsPerS.toFixed(0)}/s; `).join('') +
      `beside a busy core ${ip.besideBusyCore?.itemsPerS.toFixed(0) ?? '–'}/s; prepare ${ip.prepareItemsPerS.toFixed(0)}/s; ` +
      `limit (batch ${ip.limit.batch}, ${describeArrangement(ip.limit)}, ${options.smoke ? budget : options.durationS} s; ` +
      `measured again beside the runs) ${ip.limit.itemsPerS.toFixed(0)}/s`,
  );
  const prefixes = SYSTEMS.map((name) => `bench-${name.slice(0, 4)}-${scenario.name}-${process.pid}`);
  const systems: RunningSystem[] = [];
  try {
    for (const [i, name] of SYSTEMS.entries()) {
      log(`[${scenario.name}] starting ${name}`);
      systems.push(await startSystem(name, scenario, { redisUrl: redis.url, prefix: prefixes[i]! }));
    }
    for (const shape of scenario.requests) {
      const serving = systems.filter((s) => s.name !== 'naive' || shape.route === 'friendly');
      // Throughput seen so far per system: sizes the runs on a slow machine or for a slow model.
      const seen = new Map<RunningSystem, number>();
      for (const system of serving) {
        const warm = await warmUp(system, shape, scenario, options);
        seen.set(system, Math.min(ip.bestAllowed.itemsPerS, warm?.throughput || Infinity));
      }
      for (const [level, connections] of options.concurrency.entries()) {
        for (const system of rotate([...serving, LIMIT_TURN], level)) {
          if (system === LIMIT_TURN) {
            await timeLimitAgain(scenario, ip, options.smoke ? budget : options.durationS);
            log(`[${scenario.name}] (a) again: ${ip.limitRuns.at(-1)!.itemsPerS.toFixed(0)} items/s`);
            continue;
          }
          // A run must outlast several waits of one request at this concurrency (c / throughput).
          const cycleS = connections / Math.max(0.5, seen.get(system)!);
          const durationS = options.smoke ? options.durationS : Math.max(options.durationS, Math.min(40, 3 * cycleS));
          const record = await measure(system, shape, scenario, { ...options, durationS }, redis, connections);
          report.runs.push(record);
          log(`[${scenario.name}] ${describe(record)}`);
          if (record.load.throughput > 0) seen.set(system, Math.min(ip.bestAllowed.itemsPerS, record.load.throughput));
          // Requests cut off at the end of a run are still being served: let them finish.
          if (cycleS > 0.05) await sleep(Math.min(15_000, 1500 * cycleS));
        }
      }
    }
  } finally {
    await Promise.all(systems.map((s) => s.stop()));
    await redis.cleanup(prefixes);
  }
  // The tables list each system's runs together, in concurrency order.
  report.runs.sort((a, b) => seriesRank(a) - seriesRank(b));
  if (scenario.name === 'faq') await measureBaseline(report, options, redis, log);
  return report;
}

/** (a)'s turn among the systems: the limit is measured again beside their runs (see timeLimitAgain). */
const LIMIT_TURN = 'limit' as const;

/** The items in turn, starting at `level` (mod their number). */
function rotate<T>(items: T[], level: number): T[] {
  const k = level % Math.max(1, items.length);
  return [...items.slice(k), ...items.slice(0, k)];
}

/** Where a run goes in the tables: by system, then route (the sort keeps concurrency order). */
function seriesRank(r: RunRecord): number {
  return SYSTEMS.indexOf(r.system) * 2 + (r.route === 'oip' ? 1 : 0);
}

/**
 * The Redis baseline at the pace of Switchyard's c=1 run (see measureRedisBaseline), measured
 * once every system has stopped: what its Redis CPU per request at c=1 compares with.
 */
async function measureBaseline(report: ModelReport, options: BenchOptions, redis: BenchRedis, log: Log): Promise<void> {
  const c1 = report.runs.find((r) => r.series === 'switchyard' && r.load.connections === 1);
  if (!c1 || c1.load.throughput <= 0) return;
  const prefix = `bench-baseline-${process.pid}`;
  try {
    const baseline = await measureRedisBaseline(redis, prefix, 1000 / c1.load.throughput, options.smoke ? 200 : 2000);
    report.redisBaseline = baseline;
    log(
      `[${report.model}] Redis baseline: a bare request/reply every ${baseline.periodMs.toFixed(2)} ms costs Redis ` +
        `${baseline.cpuUs.toFixed(0)} µs (Switchyard at c=1: ${c1.redis?.cpuUs.toFixed(0) ?? '?'} µs)`,
    );
  } finally {
    await redis.cleanup([prefix]);
  }
}

async function warmUp(
  system: RunningSystem,
  shape: RequestShape,
  scenario: ModelScenario,
  options: BenchOptions,
): Promise<LoadResult | undefined> {
  if (options.warmupS <= 0) return undefined;
  return runLoad({ url: system.url, shape, connections: 8, durationS: options.warmupS, timeoutS: scenario.timeoutS });
}

/** One measured run, with Redis and per-process CPU deltas around it. */
export async function measure(
  system: RunningSystem,
  shape: RequestShape,
  scenario: ModelScenario,
  options: BenchOptions,
  redis: BenchRedis | undefined,
  connections: number,
): Promise<RunRecord> {
  const usesRedis = redis !== undefined && system.prefix !== undefined;
  const redisBefore = usesRedis ? await redis.snapshot() : undefined;
  const cpuBefore = {
    front: system.front.cpuSeconds(),
    back: system.back?.cpuSeconds() ?? 0,
    self: process.cpuUsage(),
    ticks: readCpuTicks(),
    at: Date.now(),
  };
  const load = await runLoad({
    url: system.url,
    shape,
    connections,
    durationS: options.durationS,
    timeoutS: scenario.timeoutS,
  });
  const self = process.cpuUsage(cpuBefore.self);
  const ticks = readCpuTicks();
  const cpuShare =
    cpuBefore.ticks && ticks ? cpuShares(cpuBefore.ticks, ticks, Date.now() - cpuBefore.at, cpus().length) : undefined;
  const n = Math.max(1, load.ok);
  const redisAfter = usesRedis ? await redis.snapshot() : undefined;
  const perRequest = redisBefore && redisAfter ? redisPerRequest(redisBefore, redisAfter, load.ok) : undefined;
  return {
    model: scenario.name,
    system: system.name,
    route: shape.route,
    series: shape.route === 'oip' ? `${system.name}-oip` : system.name,
    load,
    cpuUs: {
      front: ((system.front.cpuSeconds() - cpuBefore.front) * 1e6) / n,
      back: system.back ? ((system.back.cpuSeconds() - cpuBefore.back) * 1e6) / n : undefined,
      redis: perRequest?.cpuUs,
      loadgen: (self.user + self.system) / n,
    },
    redis: perRequest,
    cpuShare,
  };
}

export function describe(r: RunRecord): string {
  const l = r.load;
  const batch = l.batch ? ` batch ${l.batch.perBatch.toFixed(1)}` : '';
  const redis = r.redis ? ` redis ${r.redis.commands.toFixed(1)} cmds ${r.redis.cpuUs.toFixed(0)}µs/req` : '';
  const failed = l.failed > 0 ? ` FAILED ${l.failed} ${JSON.stringify(l.statuses)}` : '';
  return (
    `${r.series.padEnd(15)} c=${String(l.connections).padEnd(3)} ${l.throughput.toFixed(1).padStart(8)} req/s ` +
    `p50 ${l.latencyMs.p50.toFixed(2)} p90 ${l.latencyMs.p90.toFixed(2)} p99 ${l.latencyMs.p99.toFixed(2)} ms` +
    `${batch}${redis}${failed}`
  );
}
