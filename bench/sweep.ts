import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { BenchOptions } from './options.js';
import type { BenchRedis } from './redis.js';
import { faqScenario } from './scenarios.js';
import { ROOT, sleep, type Service } from './services.js';
import { measure, type Log } from './suite.js';
import { launchApi, launchWorker, type RunningSystem } from './systems.js';
import type { SweepCell } from './types.js';
import { runLoad } from './load.js';

export const SWEEP_BATCH_SIZES = [1, 8, 32, 64];
export const SWEEP_DELAYS_MS = [0, 1, 2, 5];
export const SWEEP_CONNECTIONS = 64;
/** Seconds per cell: the run duration, at most this (16 cells must fit the time budget). */
const MAX_CELL_S = 5;

/** The temporary model repository the sweep writes its FAQ configs into. */
export const SWEEP_REPOSITORY = resolve(ROOT, '.cache/bench-repo');

/**
 * FAQ through Switchyard at concurrency 64 for every max_batch_size × max_queue_delay_ms:
 * each cell rewrites `.cache/bench-repo/faq/config.yaml` and restarts the worker (one API
 * serves every cell).
 */
export async function runSweep(
  options: BenchOptions,
  redis: BenchRedis,
  log: Log,
  /** Called after every cell with the cells so far (to save partial results). */
  onCell: (cells: SweepCell[]) => void = () => undefined,
): Promise<SweepCell[]> {
  const source = resolve(ROOT, 'models/faq');
  const target = resolve(SWEEP_REPOSITORY, 'faq');
  rmSync(target, { recursive: true, force: true });
  mkdirSync(resolve(target, '1'), { recursive: true });
  copyFileSync(resolve(source, '1/model.onnx'), resolve(target, '1/model.onnx'));
  copyFileSync(resolve(source, 'labels.json'), resolve(target, 'labels.json'));
  const baseConfig = readFileSync(resolve(source, 'config.yaml'), 'utf8');
  const scenario = faqScenario(SWEEP_REPOSITORY);
  const shape = scenario.requests.find((s) => s.route === 'friendly')!;
  const cellOptions: BenchOptions = { ...options, durationS: Math.min(options.durationS, MAX_CELL_S) };
  const prefix = `bench-sweep-${process.pid}`;
  const start = { redisUrl: redis.url, prefix };
  const cells: SweepCell[] = [];
  let api = await launchApi(start);
  try {
    for (const maxBatchSize of SWEEP_BATCH_SIZES) {
      for (const maxQueueDelayMs of SWEEP_DELAYS_MS) {
        writeFileSync(resolve(target, 'config.yaml'), withBatching(baseConfig, maxBatchSize, maxQueueDelayMs));
        const label = `max_batch_size ${String(maxBatchSize).padStart(2)} delay ${maxQueueDelayMs} ms`;
        let worker: Service | undefined;
        try {
          if (!api.alive) {
            log(`[sweep] the API exited (${api.child.exitCode ?? api.child.signalCode}): starting another`);
            api = await launchApi(start);
          }
          worker = await launchWorker(scenario, start);
          // The API re-reads workers' announcements at most every second.
          await sleep(1200);
          await api.waitReady(`/v2/models/faq/ready`);
          const system: RunningSystem = {
            name: 'switchyard',
            url: api.url,
            front: api,
            back: worker,
            prefix,
            stop: async () => {},
          };
          const warm = await runLoad({
            url: api.url,
            shape,
            connections: SWEEP_CONNECTIONS,
            durationS: Math.max(0.5, options.warmupS),
            timeoutS: 10,
          });
          // On a slow machine a run must outlast several waits of one request (c / throughput).
          const cycleS = SWEEP_CONNECTIONS / Math.max(1, warm.throughput);
          const durationS = Math.max(cellOptions.durationS, Math.min(20, 3 * cycleS));
          const {
            load,
            redis: perRequest,
            cpuUs,
          } = await measure(system, shape, scenario, { ...cellOptions, durationS }, redis, SWEEP_CONNECTIONS);
          cells.push({ maxBatchSize, maxQueueDelayMs, load, redis: perRequest, workerCpuUs: cpuUs.back });
          log(
            `[sweep] ${label}: ${load.throughput.toFixed(0).padStart(6)} req/s p99 ${load.latencyMs.p99.toFixed(1)} ms ` +
              `batch ${load.batch?.perBatch.toFixed(1) ?? '-'} redis ${perRequest?.commands.toFixed(1)} cmds ` +
              `${perRequest?.cpuUs.toFixed(0)} µs, worker ${cpuUs.back?.toFixed(0)} µs/req${load.failed ? ` FAILED ${load.failed}` : ''}`,
          );
        } catch (err) {
          log(`[sweep] ${label}: error ${(err as Error).message.split('\n')[0]}`);
          cells.push({ maxBatchSize, maxQueueDelayMs, load: emptyLoad(), error: (err as Error).message.slice(0, 500) });
        } finally {
          await worker?.stop();
        }
        onCell(cells);
      }
    }
  } finally {
    await api.stop();
    await redis.cleanup([prefix]);
  }
  return cells;
}

/** The FAQ config with these batching settings (the two lines rewritten in place). */
export function withBatching(config: string, maxBatchSize: number, delayMs: number): string {
  const out = config
    .replace(/^max_batch_size:.*$/m, `max_batch_size: ${maxBatchSize}`)
    .replace(/^(\s+max_queue_delay_ms:).*$/m, `$1 ${delayMs}`);
  if (!out.includes(`max_batch_size: ${maxBatchSize}`) || !out.includes(`max_queue_delay_ms: ${delayMs}`))
    throw new Error(
      'models/faq/config.yaml has no max_batch_size / dynamic_batching.max_queue_delay_ms line to rewrite',
    );
  return out;
}

function emptyLoad(): SweepCell['load'] {
  return {
    connections: SWEEP_CONNECTIONS,
    durationS: 0,
    ok: 0,
    failed: 0,
    throughput: 0,
    latencyMs: { p50: 0, p90: 0, p99: 0, mean: 0, max: 0 },
    batch: null,
    statuses: {},
  };
}
