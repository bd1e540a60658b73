/**
 * `npm run bench`: Switchyard against the in-process limit (a), its own embedded mode (b) and
 * a naive BullMQ design (c), side by side; then the FAQ batching sweep. Writes
 * report.md, report.json and chart.svg to bench/results/<timestamp>/ (or --out).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { resolve } from 'node:path';
import { renderChart } from './chart.js';
import { cpuShares, readCpuTicks, spinProbe, throttledWarning } from './machine-check.js';
import { parseOptions, type BenchOptions } from './options.js';
import { BenchRedis } from './redis.js';
import { renderMarkdown } from './report.js';
import { binaryTensorRequest } from './in-process.js';
import { fashionScenario, faqScenario, resnetScenario, type ModelScenario } from './scenarios.js';
import { runModelSuite, type Log } from './suite.js';
import { runSweep, SWEEP_CONNECTIONS } from './sweep.js';
import { judgeTargets } from './targets.js';
import type { BenchReport, SweepCell } from './types.js';

const METHOD = [
  'Load: autocannon (programmatic), closed loop, one request in flight per connection, run in the benchmark process on the same machine; every run is bounded by --duration. Latency is measured per response with sub-ms resolution (exact nearest-rank percentiles of 2xx responses); throughput counts 2xx responses only.',
  'Mean batch size: parsed from every 2xx response’s `Server-Timing: batch;desc="N"` header. "batch" = responses ÷ Σ(1/N), the mean size of the batches that ran (the naive design never batches: 1).',
  'Systems: Switchyard = one API process + one worker process over Redis (BullMQ), each started as its users start it (`node --initial-old-space-size=128 <entry>`, NODE_FLAGS); (b) embedded = the same API without REDIS_URL, inference in-process; (c) naive = bench/naive: Fastify + queue.add + job.waitUntilFinished(QueueEvents), one BullMQ worker with concurrency 1 running the model’s own handler and session one job at a time. All three run at once (each idle while another is measured); every route and concurrency level is measured on each in turn, the order rotating from level to level, so that the host’s drift over minutes does not fall between the systems a ratio compares.',
  '(a) in-process: onnxruntime-node session.run in a loop on pre-built tensors (one real request prepared by the model’s handler, repeated along the batch dimension), same session options and arrangement as the worker (instance.count sessions running at once, intra_op_threads each), batch sizes 1–64 for ~1 s each; then the best batch size in the other arrangements a config can ask for (one session with a thread per core, one one-thread session per core); the fastest arrangement is measured again for --duration seconds, right after these points and once more in each turn of the served systems’ runs (every route and concurrency level, its turn rotating with the systems’), and the limit (÷ (a)) is the mean of those runs: the best of several short points sits above what a setting sustains, and one measurement minutes away from a run would compare it with a host running at another speed. Image models’ friendly requests also decode and resize a 1024×788 JPEG, which (a) leaves out: see "handler preprocessing alone". "Beside a busy core": the best batch size again while another process runs a plain busy loop (no memory traffic, no system calls) — what inference gets once anything else runs on the machine; every served system runs an HTTP server, a load generator and, for images, a decoder beside its inference.',
  'CPU µs per request: utime+stime deltas of each process from /proc/<pid>/stat (10 ms ticks) divided by 2xx responses; Redis CPU from INFO cpu used_cpu_user+used_cpu_sys deltas. Background work (worker heartbeats, BullMQ stalled-job checks, blocking-pop timeouts, the API’s catalog refresh) is included, amortised over the run.',
  'Redis commands per request: INFO commandstats deltas (every command, including those run inside Lua scripts such as BullMQ’s), "scripts" = EVALSHA/EVAL calls (each one client command that runs many); the benchmark’s own INFO calls are excluded. Redis 7 counts commands run inside Lua in total_commands_processed too, so client commands and round trips are not visible in these counters: use `redis-cli monitor` for that split.',
  'Machine check: the share of the cores’ wall time the kernel accounted over the run (/proc/stat, all states; a virtual machine descheduled by its host accounts less, or accounts it as steal), and a 1 s busy loop at the start and the end (the share of its wall time it ran, its longest stall). Below 90%, or with a stall over 100 ms, the report says the machine was throttled and its figures are not representative.',
  'Redis baseline (FAQ): once Switchyard has stopped, the benchmark and a child process exchange 300 B requests and 2 KB replies through two Redis lists (`LPUSH` + `BLPOP` in one write on each side), one round trip every 1/throughput of Switchyard’s c=1 run (sub-millisecond pauses with Atomics.wait, no spinning), and Redis CPU per round trip is read as above. That is what any design that sends each request and each reply through Redis pays per request at that pace (every message is a read, a delivery, an acknowledgement and a wake-up), measured with nothing else running.',
  'Redis: a private redis-server (--save "" --appendonly no) started for the run unless --redis-url is given; every system gets a fresh key prefix whose keys are deleted after it.',
];

async function main(): Promise<void> {
  let options: BenchOptions;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (err) {
    console.error((err as Error).message);
    process.exit(2);
  }
  const t0 = Date.now();
  const log: Log = (line) => console.log(`[bench +${((Date.now() - t0) / 1000).toFixed(0).padStart(4)}s] ${line}`);
  const loadBefore = loadavg();
  const ticksBefore = readCpuTicks();
  const startProbe = spinProbe('start');
  log(
    `load average ${loadBefore.map((x) => x.toFixed(2)).join(' ')} on ${cpus().length} cores; parts: ${options.parts.join(', ')}`,
  );
  const early = throttledWarning({ probes: [startProbe] });
  if (early) log(`WARNING: ${early}`);
  const redis = await BenchRedis.start(options.redisUrl);
  const redisVersion = /redis_version:(\S+)/.exec(await redis.client.info('server'))?.[1] ?? '?';
  log(`redis ${redisVersion} at ${redis.url}${redis.isPrivate ? ' (private)' : ''}`);

  const report: BenchReport = {
    version: 1,
    startedAt: new Date(t0).toISOString(),
    finishedAt: '',
    options: {
      smoke: options.smoke,
      durationS: options.durationS,
      warmupS: options.warmupS,
      concurrency: options.concurrency,
      parts: options.parts,
    },
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      node: process.version,
      redis: redisVersion,
      privateRedis: redis.isPrivate,
      loadAverageBefore: loadBefore,
      loadAverageAfter: [],
      check: { probes: [startProbe] },
    },
    method: METHOD,
    models: [],
    targets: [],
  };
  // Written after every part, so an interrupted run still leaves what it measured.
  const save = (): void => {
    report.finishedAt = new Date().toISOString();
    report.machine.loadAverageAfter = loadavg();
    const ticksNow = readCpuTicks();
    if (ticksBefore && ticksNow)
      Object.assign(report.machine.check!, cpuShares(ticksBefore, ticksNow, Date.now() - t0, cpus().length));
    report.targets = judgeTargets(report);
    mkdirSync(options.outDir, { recursive: true });
    writeFileSync(resolve(options.outDir, 'report.json'), JSON.stringify(report, null, 2) + '\n');
    writeFileSync(resolve(options.outDir, 'report.md'), renderMarkdown(report));
    writeFileSync(resolve(options.outDir, 'chart.svg'), renderChart(report));
  };
  try {
    for (const part of options.parts) {
      if (part === 'sweep') {
        const sweep = { connections: SWEEP_CONNECTIONS, cells: [] as SweepCell[] };
        report.sweep = sweep;
        sweep.cells = await runSweep(options, redis, log, (cells) => {
          sweep.cells = cells;
          save();
        });
      } else {
        const scenario: ModelScenario | { skipped: string } =
          part === 'faq' ? faqScenario() : part === 'fashion' ? fashionScenario() : resnetScenario(log);
        if ('skipped' in scenario) log(`[${part}] skipped: ${scenario.skipped}`);
        // ResNet-50 is also sent as the tensor (a) runs on, in binary: serving without the decode.
        else if (part === 'resnet50') scenario.requests.push(await binaryTensorRequest(scenario));
        report.models.push(
          'skipped' in scenario
            ? { model: part, skipped: scenario.skipped, runs: [] }
            : await runModelSuite(scenario, options, redis, log),
        );
      }
      save();
    }
  } finally {
    await redis.stop();
  }
  report.machine.check!.probes.push(spinProbe('end'));
  save();
  const warning = throttledWarning(report.machine.check);
  if (warning) log(`WARNING: ${warning}`);
  for (const t of report.targets)
    log(`target ${t.pass === null ? 'n/a ' : t.pass ? 'PASS' : 'FAIL'} ${t.name}: ${t.detail}`);
  log(`done in ${((Date.now() - t0) / 1000).toFixed(0)} s: ${resolve(options.outDir, 'report.md')}`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`bench failed: ${(err as Error).stack ?? String(err)}`);
    process.exit(1);
  },
);
