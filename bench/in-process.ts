import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { encodeBinaryInfer } from '#client/http';
import { DATATYPE_OF, INFERENCE_HEADER_CONTENT_LENGTH, type OrtType, type ScoringJob } from '#contracts';
import {
  concatRows,
  createFriendlyHandler,
  intraOpThreads,
  LoadedModel,
  ModelRepository,
  type TensorMap,
} from '#runtime';
import type { ModelScenario, RequestShape } from './scenarios.js';
import { sleep } from './services.js';

/** Batch sizes reference (a) runs `session.run` at. */
export const REFERENCE_BATCH_SIZES = [1, 2, 4, 8, 16, 32, 64];

/** `session.run` throughput at one batch size. */
export interface InProcessPoint {
  batch: number;
  itemsPerS: number;
  msPerRun: number;
  runs: number;
}

/**
 * How (a) runs onnxruntime: `sessions` sessions of one version running at once (the config's
 * `instance.count`), each with `threads` intra-op threads.
 */
export interface Arrangement {
  sessions: number;
  threads: number;
}

export function describeArrangement(a: Arrangement): string {
  return `${a.sessions} session${a.sessions === 1 ? '' : 's'} × ${a.threads} thread${a.threads === 1 ? '' : 's'}`;
}

/** Wall time a point was measured over (its sessions' runs overlap). */
export function measuredSeconds(point: InProcessPoint & Arrangement): number {
  return (point.runs * point.msPerRun) / point.sessions / 1000;
}

/** Reference (a): the model in onnxruntime-node in this process, no HTTP, no queue. */
export interface InProcessResult {
  model: string;
  /** The config's arrangement, as a worker runs it (`instance.count` × resolved `intra_op_threads`). */
  arrangement: Arrangement;
  maxBatchSize: number;
  /** The config's arrangement at each batch size. */
  points: InProcessPoint[];
  /** Best items/s over every batch size. */
  best: InProcessPoint;
  /** Best items/s over batch sizes the config allows (≤ max_batch_size). */
  bestAllowed: InProcessPoint;
  /**
   * The best batch size in the other arrangements a config can ask for on this machine: one
   * session on every core, and one one-thread session per core. Which is fastest depends on
   * the machine and the model; the limit is the fastest of all.
   */
  others: (InProcessPoint & Arrangement)[];
  /**
   * The machine's limit for this model, what the ResNet-50 target and the `÷ (a)` column divide
   * by: the best batch size in the fastest arrangement, measured at length. The short points
   * above only choose it: the best of several 1-second points sits above what the same setting
   * sustains (on a VM, by ~15% for ResNet-50). Its items/s is the mean of `limitRuns`.
   */
  limit: InProcessPoint & Arrangement;
  /**
   * Every measurement of the limit's setting at length: the first right after the points above,
   * then one in each turn of the served systems' runs (see `timeLimitAgain`), so that the limit
   * is taken over the same minutes as the runs it divides, on a host whose speed drifts.
   */
  limitRuns: InProcessPoint[];
  /**
   * The best batch size again while another process keeps one core busy with a plain loop: what
   * inference gets on this machine once anything else runs beside it (a server parsing requests,
   * a decoder, the load generator). Where the arrangement infers on every core (several sessions
   * or threads), it falls to about what the other cores run; one thread on separate cores keeps
   * about `best`, on vCPUs that share a physical core less. Undefined on a one-core machine.
   */
  besideBusyCore?: InProcessPoint;
  /** The handler's preprocessing alone (text → tensor, JPEG decode + resize), 8 at a time. */
  prepareItemsPerS: number;
}

/**
 * Measures reference (a): per batch size, one warm-up run, then runs for `budgetS` (at least
 * one) in the config's arrangement. Stops at the first batch size whose run takes over 5 s. The
 * best of them is then measured in the other arrangements, and the fastest for `limitS` (see
 * `limit`).
 */
export async function measureInProcess(
  scenario: ModelScenario,
  budgetS: number,
  limitS: number,
): Promise<InProcessResult> {
  const repository = new ModelRepository(scenario.repository);
  const model = await loadArranged(repository, scenario.name);
  const { config } = model;
  const arrangement = {
    sessions: config.instance.count,
    threads: intraOpThreads(config.instance.intra_op_threads, config.instance.count),
  };
  try {
    const { handler, job, item } = await prepareOne(model, scenario);
    await model.warmUp();
    const session = model.versions[0]!.session;
    const time = (feeds: TensorMap, batch: number, seconds: number) =>
      timeRuns(session, feeds, batch, seconds, arrangement.sessions);
    const points: InProcessPoint[] = [];
    for (const batch of REFERENCE_BATCH_SIZES) {
      const point = await time(batchOf(item.feeds, batch), batch, budgetS);
      points.push(point);
      if (point.msPerRun > 5000) break; // the next size would take over 10 s a run: enough
    }
    const best = points.reduce((a, b) => (b.itemsPerS > a.itemsPerS ? b : a));
    const allowed = points.filter((p) => p.batch <= Math.max(1, config.max_batch_size));
    const bestAllowed = allowed.reduce((a, b) => (b.itemsPerS > a.itemsPerS ? b : a));

    const bestFeeds = batchOf(item.feeds, best.batch);
    const besideBusyCore =
      availableParallelism() > 1 ? await besideBusyLoop(() => time(bestFeeds, best.batch, budgetS)) : undefined;
    const prepareItemsPerS = await timePrepare(() => handler.prepare(job), budgetS);

    const others: InProcessResult['others'] = [];
    for (const other of otherArrangements(arrangement, availableParallelism())) {
      const point = await inArrangement(repository, scenario.name, other, (s) =>
        timeRuns(s, bestFeeds, best.batch, budgetS, other.sessions),
      );
      others.push(Object.assign(point, other));
    }
    const top = fastest(Object.assign({}, best, arrangement), others);
    const sustained = others.includes(top)
      ? await inArrangement(repository, scenario.name, top, (s) =>
          timeRuns(s, bestFeeds, best.batch, limitS, top.sessions),
        )
      : await time(bestFeeds, best.batch, limitS);
    const limitRuns = [sustained];
    const limit = Object.assign(meanOf(limitRuns), { sessions: top.sessions, threads: top.threads });
    return {
      model: scenario.name,
      arrangement,
      maxBatchSize: config.max_batch_size,
      points,
      best,
      bestAllowed,
      others,
      limit,
      limitRuns,
      besideBusyCore,
      prepareItemsPerS,
    };
  } finally {
    await model.release();
  }
}

/**
 * Times the limit's setting (its batch size and arrangement) again for `seconds`, adds the run
 * to `limitRuns` and makes the limit their mean. The benchmark does so in each turn of the
 * served systems' runs: (a) measured once, minutes before or after a run, would compare that
 * run with another machine on a host whose speed drifts by 10-40% over minutes.
 */
export async function timeLimitAgain(scenario: ModelScenario, ip: InProcessResult, seconds: number): Promise<void> {
  const { limit } = ip;
  const arrangement = { sessions: limit.sessions, threads: limit.threads };
  const point = await inArrangement(
    new ModelRepository(scenario.repository),
    scenario.name,
    arrangement,
    async (s, m) => {
      const { item } = await prepareOne(m, scenario);
      return timeRuns(s, batchOf(item.feeds, limit.batch), limit.batch, seconds, arrangement.sessions);
    },
  );
  ip.limitRuns.push(point);
  ip.limit = Object.assign(meanOf(ip.limitRuns), arrangement);
}

/** How the limit was measured: "mean of 3 runs over 15.2 s: 28.1–31.0 items/s" (one run: its length). */
export function describeLimitRuns(ip: Pick<InProcessResult, 'limit' | 'limitRuns'>): string {
  const { sessions, threads } = ip.limit;
  const seconds = ip.limitRuns.reduce((sum, p) => sum + measuredSeconds({ ...p, sessions, threads }), 0);
  if (ip.limitRuns.length === 1) return `1 run of ${seconds.toFixed(1)} s`;
  const rates = ip.limitRuns.map((p) => p.itemsPerS);
  const fmt = (x: number) => (x >= 100 ? x.toFixed(0) : x.toFixed(1));
  return `mean of ${rates.length} runs over ${seconds.toFixed(1)} s: ${fmt(Math.min(...rates))}–${fmt(Math.max(...rates))} items/s`;
}

/** Runs of one setting as one point: mean items/s and ms per run, runs summed. */
export function meanOf(points: InProcessPoint[]): InProcessPoint {
  const mean = (f: (p: InProcessPoint) => number) => points.reduce((sum, p) => sum + f(p), 0) / points.length;
  return {
    batch: points[0]!.batch,
    itemsPerS: mean((p) => p.itemsPerS),
    msPerRun: mean((p) => p.msPerRun),
    runs: points.reduce((sum, p) => sum + p.runs, 0),
  };
}

/** One session on every core and one one-thread session per core, but for the config's own. */
export function otherArrangements(config: Arrangement, cores: number): Arrangement[] {
  const candidates =
    cores > 1
      ? [
          { sessions: 1, threads: cores },
          { sessions: cores, threads: 1 },
        ]
      : [];
  return candidates.filter((a) => a.sessions !== config.sessions || a.threads !== config.threads);
}

/** The fastest point; the config's own on a tie. */
export function fastest<P extends InProcessPoint>(config: P, others: P[]): P {
  return others.reduce((a, b) => (b.itemsPerS > a.itemsPerS ? b : a), config);
}

/**
 * The model as the config has it, or in another arrangement; with one session, that session
 * runs on this thread (even where the config runs inferences on their own thread).
 */
async function loadArranged(repository: ModelRepository, name: string, arrangement?: Arrangement) {
  const resolved = await repository.resolve(name);
  const { instance } = resolved.config;
  if (arrangement) {
    instance.count = arrangement.sessions;
    instance.intra_op_threads = arrangement.threads;
  }
  instance.inference_thread = false;
  return LoadedModel.load(resolved);
}

async function inArrangement(
  repository: ModelRepository,
  name: string,
  arrangement: Arrangement,
  measure: (session: LoadedModel['versions'][number]['session'], model: LoadedModel) => Promise<InProcessPoint>,
): Promise<InProcessPoint> {
  const model = await loadArranged(repository, name, arrangement);
  try {
    await model.warmUp();
    return await measure(model.versions[0]!.session, model);
  } finally {
    await model.release();
  }
}

/** The scenario's friendly payload prepared by the model's handler: what a worker would feed the session. */
async function prepareOne(model: LoadedModel, scenario: ModelScenario) {
  const handler = await createFriendlyHandler(model);
  if (!handler) throw new Error(`model '${scenario.name}' has no friendly handler`);
  const job: ScoringJob = {
    id: 'bench',
    model: scenario.name,
    kind: 'friendly',
    payload: scenario.payload,
    replyTo: 'bench',
    deadline: Date.now() + 3_600_000,
    acceptedAt: Date.now(),
  };
  return { handler, job, item: await handler.prepare(job) };
}

/**
 * The tensors (a) runs on, as an OIP request body with the binary tensor data extension: the
 * same computation as (a) through the service, without the JPEG decode of the friendly route.
 */
export async function binaryTensorRequest(scenario: ModelScenario): Promise<RequestShape> {
  const resolved = await new ModelRepository(scenario.repository).resolve(scenario.name);
  resolved.config.instance.inference_thread = false;
  const model = await LoadedModel.load(resolved);
  try {
    const { item } = await prepareOne(model, scenario);
    const inputs = Object.entries(item.feeds).map(([name, t]) => ({
      name,
      datatype: DATATYPE_OF[t.type as OrtType],
      shape: t.dims.slice(),
      data: t.data as ArrayBufferView,
    }));
    const { body, jsonLength } = encodeBinaryInfer({ inputs });
    return {
      route: 'oip',
      path: `/v2/models/${scenario.name}/infer`,
      contentType: 'application/octet-stream',
      headers: { [INFERENCE_HEADER_CONTENT_LENGTH]: String(jsonLength) },
      bodies: [body],
    };
  } finally {
    await model.release();
  }
}

/** One item's feeds repeated `rows` times along the batch dimension (built once, before timing). */
function batchOf(feeds: TensorMap, rows: number): TensorMap {
  const out: TensorMap = {};
  for (const [name, tensor] of Object.entries(feeds))
    out[name] = rows === 1 ? tensor : concatRows(Array(rows).fill(tensor));
  return out;
}

/** `parallel` loops of runs at once (one per session of a pool), for `budgetS` (at least one run each). */
async function timeRuns(
  session: LoadedModel['versions'][number]['session'],
  feeds: TensorMap,
  batch: number,
  budgetS: number,
  parallel: number,
): Promise<InProcessPoint> {
  const loops = Array.from({ length: parallel });
  await Promise.all(loops.map(() => session.run(feeds))); // warm this shape on every session
  let runs = 0;
  const started = performance.now();
  const until = started + budgetS * 1000;
  await Promise.all(
    loops.map(async () => {
      do {
        await session.run(feeds);
        runs++;
      } while (performance.now() < until);
    }),
  );
  const elapsed = performance.now() - started;
  return { batch, runs, msPerRun: (elapsed * parallel) / runs, itemsPerS: (batch * runs * 1000) / elapsed };
}

/**
 * A plain busy loop (no memory traffic, one getppid per ~10 ms) that ends when its parent is gone
 * or after 10 minutes, so a benchmark killed mid-measure does not leave it spinning.
 */
const SPINNER = `const parent = process.ppid, end = Date.now() + 600e3;
while (process.ppid === parent && Date.now() < end) for (let i = 0; i < 1e7; i++);`;

/** Runs `measure` while a child process spins on another core. */
async function besideBusyLoop<T>(measure: () => Promise<T>): Promise<T> {
  const spinner = spawn(process.execPath, ['-e', SPINNER], { stdio: 'ignore' });
  const exited = new Promise((resolve) => spinner.once('exit', resolve));
  try {
    // Until it spins: node takes a few tens of ms to start.
    await sleep(300);
    return await measure();
  } finally {
    spinner.kill('SIGKILL');
    await exited;
  }
}

async function timePrepare(prepare: () => Promise<unknown>, budgetS: number): Promise<number> {
  const width = 8;
  let done = 0;
  const started = performance.now();
  const until = started + budgetS * 1000;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (performance.now() < until) {
        await prepare();
        done++;
      }
    }),
  );
  return (done * 1000) / (performance.now() - started);
}
