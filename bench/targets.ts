import { describeArrangement, describeLimitRuns, fastest, type InProcessPoint } from './in-process.js';
import { cpuGot, pct, throttledShare } from './machine-check.js';
import type { BenchReport, ModelReport, RunRecord, TargetResult } from './types.js';

/** Finds the run of one series at one concurrency. */
export function runOf(model: ModelReport | undefined, series: string, connections: number): RunRecord | undefined {
  return model?.runs.find((r) => r.series === series && r.load.connections === connections);
}

const fmt = (n: number, digits = 2): string => n.toFixed(digits);

/**
 * The targets, judged on this run. They are reported, never asserted: a loaded
 * machine fails them without anything being wrong. `pass` is null when not measured.
 */
export function judgeTargets(report: Pick<BenchReport, 'models'>): TargetResult[] {
  const faq = report.models.find((m) => m.model === 'faq' && !m.skipped);
  const resnet = report.models.find((m) => m.model === 'resnet50');
  const targets: TargetResult[] = [];
  const sy32 = runOf(faq, 'switchyard', 32);
  const naive32 = runOf(faq, 'naive', 32);
  const emb32 = runOf(faq, 'embedded', 32);
  targets.push(
    ratioTarget('FAQ at c=32: Switchyard ≥ 2.5× naive throughput', sy32, naive32, 2.5),
    ratioTarget('FAQ at c=32: Switchyard ≥ 40% of embedded (b) throughput', sy32, emb32, 0.4),
  );
  const sy1 = runOf(faq, 'switchyard', 1);
  targets.push(
    sy1
      ? {
          name: 'FAQ at c=1: p50 ≤ 1.0 ms end-to-end',
          pass: sy1.load.latencyMs.p50 <= 1.0,
          detail:
            `p50 ${fmt(sy1.load.latencyMs.p50)} ms (OIP: ${fmt(runOf(faq, 'switchyard-oip', 1)?.load.latencyMs.p50 ?? NaN)} ms)` +
            throttleNote([sy1]),
        }
      : { name: 'FAQ at c=1: p50 ≤ 1.0 ms end-to-end', pass: null, detail: 'not measured' },
  );
  const redisRuns = (faq?.runs ?? []).filter((r) => r.series === 'switchyard' && r.redis && r.load.ok > 0);
  if (redisRuns.length > 0) {
    const worst = Math.max(...redisRuns.map((r) => r.redis!.cpuUs));
    const baseline = faq?.redisBaseline;
    targets.push({
      name: 'Redis CPU ≤ 100 µs per scored request (FAQ, Switchyard, every concurrency)',
      pass: worst <= 100,
      detail:
        redisRuns.map((r) => `c=${r.load.connections}: ${fmt(r.redis!.cpuUs, 0)} µs`).join(', ') +
        (baseline ? ` (a bare request/reply through Redis at the c=1 pace: ${fmt(baseline.cpuUs, 0)} µs)` : '') +
        throttleNote(redisRuns),
    });
  } else {
    targets.push({ name: 'Redis CPU ≤ 100 µs per scored request', pass: null, detail: 'not measured' });
  }
  const name = 'ResNet-50 at saturation ≥ 90% of in-process (a)';
  if (!resnet || resnet.skipped || !resnet.inProcess) {
    targets.push({ name, pass: null, detail: resnet?.skipped ?? 'not measured' });
  } else {
    targets.push(resnetTarget(name, resnet, resnet.inProcess));
  }
  return targets;
}

/**
 * ResNet-50 against (a), judged on the series that computes what (a) computes: the tensor sent
 * in binary (`switchyard-oip`). The JPEG series (`switchyard`) also decodes and resizes a photo
 * per request, which (a) leaves out; it is reported beside it, and judged only when it is the
 * one series measured.
 */
function resnetTarget(name: string, resnet: ModelReport, ip: NonNullable<ModelReport['inProcess']>): TargetResult {
  const bestOf = (series: string) =>
    resnet.runs
      .filter((r) => r.series === series)
      .reduce<RunRecord | undefined>((a, b) => (!a || b.load.throughput > a.load.throughput ? b : a), undefined);
  const tensor = bestOf('switchyard-oip');
  const jpeg = bestOf('switchyard');
  const judged = tensor ?? jpeg;
  if (!judged) return { name, pass: null, detail: 'no Switchyard run' };
  // The machine's limit is (a) at its best batch size in the arrangement that runs it fastest
  // (the config's, one session on every core, or one one-thread session per core: the config's
  // alone would be a limit too easy where it leaves cores idle), measured at length beside the
  // runs it divides (the mean of its runs: see timeLimitAgain).
  const top = ip.limit;
  const topThreads = describeArrangement(top);
  const limit = top.itemsPerS;
  // One decimal: at 89.9% a rounded "90%" would read as met.
  const share = (r: RunRecord) => `${fmt((r.load.throughput / limit) * 100, 1)}%`;
  const line = (r: RunRecord) => `${fmt(r.load.throughput, 1)} req/s at c=${r.load.connections} = ${share(r)}`;
  const parts = [
    ...(tensor ? [`tensor input (OIP, binary): ${line(tensor)}`] : []),
    ...(jpeg ? [`JPEG input (decoded and resized per request, which (a) leaves out): ${line(jpeg)}`] : []),
  ];
  return {
    name,
    pass: judged.load.throughput / limit >= 0.9,
    detail:
      `${parts.join('; ')} of ${fmt(limit, 1)} items/s (batch ${top.batch}, ${topThreads}, ${describeLimitRuns(ip)}; ` +
      `the short points' best: ${fmt(fastest(ip.best, ip.others).itemsPerS, 1)}); judged: ${share(judged)} ` +
      `(vs best batch ≤ max_batch_size (${ip.bestAllowed.batch}): ` +
      `${fmt((judged.load.throughput / ip.bestAllowed.itemsPerS) * 100, 0)}%)` +
      besideBusyCore(judged.load.throughput, ip.besideBusyCore) +
      throttleNote([judged]),
  };
}

/** The run against (a) beside a busy core: the ceiling once anything shares the machine. */
function besideBusyCore(throughput: number, point: InProcessPoint | undefined): string {
  if (!point) return '';
  return `; (a) beside a busy core: ${fmt(point.itemsPerS, 1)} items/s, of which this is ${fmt((throughput / point.itemsPerS) * 100, 0)}%`;
}

function ratioTarget(name: string, a: RunRecord | undefined, b: RunRecord | undefined, min: number): TargetResult {
  if (!a || !b || b.load.throughput === 0) return { name, pass: null, detail: 'not measured' };
  const ratio = a.load.throughput / b.load.throughput;
  return {
    name,
    pass: ratio >= min,
    detail: `${fmt(a.load.throughput, 0)} vs ${fmt(b.load.throughput, 0)} req/s = ${fmt(ratio)}×${throttleNote([a, b])}`,
  };
}

/** Names the runs a target rests on that the host throttled (see MachineCheck); '' when none was. */
export function throttleNote(runs: (RunRecord | undefined)[]): string {
  const hit = runs.filter((r): r is RunRecord => r?.cpuShare !== undefined && throttledShare(r.cpuShare));
  if (hit.length === 0) return '';
  const which = hit.map((r) => `${r.series} c=${r.load.connections} got ${pct(cpuGot(r.cpuShare!)!)}`).join(', ');
  return ` — not representative: the host took the CPU away during ${which}`;
}
