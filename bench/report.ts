import { describeArrangement, describeLimitRuns } from './in-process.js';
import { cpuGot, describeCheck, pct, throttledShare, throttledWarning } from './machine-check.js';
import { SWEEP_BATCH_SIZES, SWEEP_DELAYS_MS } from './sweep.js';
import { runOf } from './targets.js';
import type { RedisBaseline } from './redis-baseline.js';
import type { BenchReport, ModelReport, RunRecord } from './types.js';

const f = (n: number | undefined, d = 1): string => (n === undefined || !Number.isFinite(n) ? '–' : n.toFixed(d));
const ratio = (a: number, b: number | undefined): string => (b ? `${(a / b).toFixed(2)}×` : '–');
const percent = (x: number): string => `${x >= 0.1 ? (x * 100).toFixed(0) : (x * 100).toPrecision(2)}%`;
const row = (cells: (string | number)[]): string => `| ${cells.join(' | ')} |`;

/** report.md: targets, then per model the side-by-side table, Redis work, (a); the sweep; the method. */
export function renderMarkdown(r: BenchReport): string {
  const out: string[] = [];
  const m = r.machine;
  out.push(`# Switchyard benchmark — ${r.startedAt}`, '');
  out.push(
    `${m.cpus} × ${m.cpuModel}, Node ${m.node}, Redis ${m.redis}${m.privateRedis ? ' (private redis-server)' : ''}. ` +
      `Load average before ${m.loadAverageBefore.map((x) => x.toFixed(2)).join(' ')}, after ` +
      `${m.loadAverageAfter.map((x) => x.toFixed(2)).join(' ')}. ` +
      `${r.options.durationS} s per run, ${r.options.warmupS} s warm-up per system${r.options.smoke ? ', SMOKE run' : ''}. ` +
      describeCheck(m.check),
    '',
  );
  const throttled = throttledWarning(m.check);
  if (throttled) out.push(`> **Warning:** ${throttled}`, '');
  if (m.loadAverageBefore[0]! > m.cpus * 0.5)
    out.push(
      `> **Note:** the machine was busy before the run started (load ${m.loadAverageBefore[0]!.toFixed(2)} on ${m.cpus} cores): absolute numbers are low and noisy; ratios taken at the same time are more telling.`,
      '',
    );
  out.push(
    '## Targets (reported, never asserted)',
    '',
    row(['target', 'result', 'measured']),
    row(['---', '---', '---']),
  );
  for (const t of r.targets) out.push(row([t.name, t.pass === null ? 'n/a' : t.pass ? 'PASS' : 'FAIL', t.detail]));
  out.push('');
  for (const model of r.models) out.push(...renderModel(model));
  if (r.sweep) out.push(...renderSweep(r.sweep));
  out.push('## Method', '', ...r.method.map((l) => `- ${l}`), '');
  return out.join('\n');
}

function renderModel(model: ModelReport): string[] {
  const out: string[] = [`## ${model.model}`, ''];
  if (model.skipped) return [...out, `Skipped: ${model.skipped}`, ''];
  const ip = model.inProcess;
  out.push(
    row([
      'series',
      'c',
      'req/s',
      'p50 ms',
      'p90 ms',
      'p99 ms',
      'batch',
      'failed',
      '÷ naive',
      '÷ embedded',
      '÷ (a)',
      'front µs/req',
      'worker µs/req',
      'Redis µs/req',
      'CPU got',
    ]),
    row(Array(15).fill('---')),
  );
  for (const r of model.runs) {
    const l = r.load;
    const peer = (series: string): number | undefined => runOf(model, series, l.connections)?.load.throughput;
    const emb = r.route === 'oip' ? peer('embedded-oip') : peer('embedded');
    out.push(
      row([
        r.series,
        l.connections,
        f(l.throughput),
        f(l.latencyMs.p50, 2),
        f(l.latencyMs.p90, 2),
        f(l.latencyMs.p99, 2),
        l.batch ? f(l.batch.perBatch, 1) : r.system === 'naive' ? '1' : '–',
        l.failed,
        r.system === 'naive' ? '' : ratio(l.throughput, peer('naive')),
        r.system === 'embedded' ? '' : ratio(l.throughput, emb),
        ip ? percent(l.throughput / ip.limit.itemsPerS) : '–',
        f(r.cpuUs.front, 0),
        f(r.cpuUs.back, 0),
        f(r.cpuUs.redis, 0),
        r.cpuShare ? `${pct(cpuGot(r.cpuShare)!)}${throttledShare(r.cpuShare) ? ' ⚠' : ''}` : '–',
      ]),
    );
  }
  out.push(
    '',
    ...renderRedis(
      model.runs.filter((r) => r.redis),
      model.redisBaseline,
    ),
  );
  if (ip) {
    out.push(
      `**(a) in-process onnxruntime** (the config's ${describeArrangement(ip.arrangement)}, max_batch_size ${ip.maxBatchSize}): best ` +
        `**${f(ip.best.itemsPerS, 0)} items/s** at batch ${ip.best.batch}; best within max_batch_size ${f(ip.bestAllowed.itemsPerS, 0)}/s ` +
        `(batch ${ip.bestAllowed.batch}); ` +
        ip.others.map((o) => `${describeArrangement(o)} at batch ${o.batch}: ${f(o.itemsPerS, 0)}/s; `).join('') +
        (ip.besideBusyCore
          ? `beside a busy core (another process spinning) at batch ${ip.besideBusyCore.batch}: ${f(ip.besideBusyCore.itemsPerS, 0)}/s; `
          : '') +
        `handler preprocessing alone: ${f(ip.prepareItemsPerS, 0)} items/s. ` +
        `**Limit** (what \`÷ (a)\` divides by): batch ${ip.limit.batch}, ${describeArrangement(ip.limit)}, ` +
        `measured at length right after these points and again in each turn of the served systems' runs ` +
        `(${describeLimitRuns(ip)}): **${f(ip.limit.itemsPerS, 0)} items/s**.`,
      '',
      row(['batch', ...ip.points.map((p) => p.batch)]),
      row(['---', ...ip.points.map(() => '---')]),
      row(['items/s', ...ip.points.map((p) => f(p.itemsPerS, 0))]),
      row(['ms/run', ...ip.points.map((p) => f(p.msPerRun, 2))]),
      '',
    );
  }
  return out;
}

function renderRedis(runs: RunRecord[], baseline?: RedisBaseline): string[] {
  if (runs.length === 0) return [];
  const out = [
    'Redis work per scored request:',
    '',
    row([
      'series',
      'c',
      'commands (incl. in Lua)',
      'scripts',
      'cmd µs',
      'CPU µs',
      'net in B',
      'net out B',
      'used_memory MB (end)',
      'top commands (per request)',
    ]),
    row(Array(10).fill('---')),
  ];
  for (const r of runs) {
    const x = r.redis!;
    out.push(
      row([
        r.series,
        r.load.connections,
        f(x.commands),
        f(x.scripts, 2),
        f(x.commandUs, 0),
        f(x.cpuUs, 0),
        f(x.netInBytes, 0),
        f(x.netOutBytes, 0),
        f(x.usedMemoryMB, 1),
        x.top.map((t) => `${t.command} ${t.perRequest.toFixed(2)}`).join(', '),
      ]),
    );
  }
  if (baseline) {
    out.push(
      '',
      `Redis baseline: a bare request and reply through Redis (an \`LPUSH\` + \`BLPOP\` echo between two processes, ` +
        `${baseline.requestBytes} B requests, ${baseline.replyBytes} B replies), one every ${f(baseline.periodMs, 2)} ms like Switchyard at c=1, cost Redis ` +
        `**${f(baseline.cpuUs, 0)} µs** per round trip (${baseline.roundTrips} round trips of ${f(baseline.roundTripUs, 0)} µs).`,
    );
  }
  return [...out, ''];
}

function renderSweep(sweep: NonNullable<BenchReport['sweep']>): string[] {
  const out = [
    `## Batching sweep (FAQ, Switchyard, c=${sweep.connections}): req/s · p99 ms · mean batch · Redis commands/req · worker CPU µs/req`,
    '',
    row(['max_batch_size \\ max_queue_delay_ms', ...SWEEP_DELAYS_MS.map(String)]),
    row(['---', ...SWEEP_DELAYS_MS.map(() => '---')]),
  ];
  for (const size of SWEEP_BATCH_SIZES) {
    const cells = SWEEP_DELAYS_MS.map((delay) => {
      const c = sweep.cells.find((x) => x.maxBatchSize === size && x.maxQueueDelayMs === delay);
      if (!c) return '–';
      if (c.error) return 'error';
      return [
        f(c.load.throughput, 0),
        f(c.load.latencyMs.p99, 1),
        f(c.load.batch?.perBatch, 1),
        f(c.redis?.commands, 1),
        f(c.workerCpuUs, 0),
      ].join(' · ');
    });
    out.push(row([String(size), ...cells]));
  }
  return [...out, ''];
}
