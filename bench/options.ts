import { resolve } from 'node:path';

/** What a benchmark run covers: one model suite or the batching sweep. */
export type Part = 'faq' | 'fashion' | 'resnet50' | 'sweep';

export const ALL_PARTS: readonly Part[] = ['faq', 'fashion', 'resnet50', 'sweep'];

/** Command-line options of `npm run bench` (`node dist/bench/run.js`). */
export interface BenchOptions {
  /**
   * `--smoke`: a seconds-long check that everything runs. FAQ only, concurrency 1 and 8,
   * 1 s per run, no sweep, no ResNet.
   */
  smoke: boolean;
  /** `--duration <s>`: seconds of load per measured run. @defaultValue 10 (1 with --smoke) */
  durationS: number;
  /**
   * `--warmup <s>`: seconds of unmeasured load (c=8) before each system's runs of a route. After
   * 2 s the FAQ path still ran at 40% of its steady throughput, and c=1 took ~12 s more to settle.
   * @defaultValue 10 (0.5 with --smoke)
   */
  warmupS: number;
  /** `--only <part>` (repeatable, or comma-separated): parts to run. @defaultValue all */
  parts: Part[];
  /** Concurrency levels swept per system. @defaultValue [1, 8, 32, 128] ([1, 8] with --smoke) */
  concurrency: number[];
  /** `--out <dir>`: where report.md, report.json and chart.svg go. @defaultValue bench/results/<timestamp> */
  outDir: string;
  /** `--redis-url <url>`: use this Redis instead of a private redis-server (keys are deleted after). */
  redisUrl?: string;
}

const USAGE = `usage: node dist/bench/run.js [--smoke] [--duration <s>] [--warmup <s>]
       [--only faq|fashion|resnet50|sweep]... [--out <dir>] [--redis-url redis://host:port]`;

/** Parses argv; throws with a usage line on anything unknown. */
export function parseOptions(argv: string[], now = new Date()): BenchOptions {
  let smoke = false;
  let duration: number | undefined;
  let warmup: number | undefined;
  let out: string | undefined;
  let redisUrl: string | undefined;
  const parts: Part[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value\n${USAGE}`);
      return v;
    };
    if (arg === '--smoke') smoke = true;
    else if (arg === '--duration') duration = positive(arg, value());
    else if (arg === '--warmup') warmup = Number(value());
    else if (arg === '--out') out = value();
    else if (arg === '--redis-url') redisUrl = value();
    else if (arg === '--only') {
      for (const p of value().split(',')) {
        if (!(ALL_PARTS as readonly string[]).includes(p)) throw new Error(`--only: unknown part '${p}'\n${USAGE}`);
        parts.push(p as Part);
      }
    } else if (arg === '--help' || arg === '-h') throw new Error(USAGE);
    else throw new Error(`unknown option '${arg}'\n${USAGE}`);
  }
  const stamp = now.toISOString().replace(/[:.]/g, '-');
  return {
    smoke,
    durationS: duration ?? (smoke ? 1 : 10),
    warmupS: warmup !== undefined && Number.isFinite(warmup) && warmup >= 0 ? warmup : smoke ? 0.5 : 10,
    parts: smoke ? ['faq'] : parts.length > 0 ? [...new Set(parts)] : [...ALL_PARTS],
    concurrency: smoke ? [1, 8] : [1, 8, 32, 128],
    outDir: resolve(out ?? `bench/results/${stamp}`),
    redisUrl,
  };
}

function positive(name: string, raw: string): number {
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name}: expected a positive number of seconds, got '${raw}'`);
  return n;
}
