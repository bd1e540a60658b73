import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { encodeBinaryInfer } from '#client/http';
import { DATATYPE_OF, INFERENCE_HEADER_CONTENT_LENGTH, type OrtType, type ScoringJob } from '#contracts';
import { concatRows, createFriendlyHandler, LoadedModel, ModelRepository, type TensorMap } from '#runtime';
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

/** Reference (a): the model in onnxruntime-node in this process, no HTTP, no queue. */
export interface InProcessResult {
  model: string;
  /** intra_op_threads of the model config (what a worker uses). */
  threads: number;
  maxBatchSize: number;
  points: InProcessPoint[];
  /** Best items/s over every batch size: the machine's limit for this model. */
  best: InProcessPoint;
  /** Best items/s over batch sizes the config allows (≤ max_batch_size). */
  bestAllowed: InProcessPoint;
  /** The best batch size again with intra_op_threads 0 (onnxruntime uses every core). */
  allCores: InProcessPoint;
  /**
   * The machine's limit for this model, what the ResNet-50 target and the `÷ (a)` column divide
   * by: the best batch size on the faster of the config's threads and every core, measured again
   * for as long as a load run. The short points above only choose it: the best of several
   * 1-second points sits above what the same setting sustains (on a VM, by ~15% for ResNet-50).
   */
  limit: InProcessPoint & { threads: number };
  /**
   * The best batch size again while another process keeps one core busy with a plain loop: what
   * inference gets on this machine once anything else runs beside it (a server parsing requests,
   * a decoder, the load generator). On a VM whose vCPUs share a physical core it is well below
   * `best`; on separate cores it is about equal. Undefined on a one-core machine.
   */
  besideBusyCore?: InProcessPoint;
  /** The handler's preprocessing alone (text → tensor, JPEG decode + resize), 8 at a time. */
  prepareItemsPerS: number;
}

/**
 * Measures reference (a): per batch size, one warm-up run, then runs for `budgetS` (at least
 * one). Stops at the first batch size whose run takes over 5 s. The best of them is then
 * measured again on every core, and the faster of the two for `limitS` (see `limit`).
 */
export async function measureInProcess(
  scenario: ModelScenario,
  budgetS: number,
  limitS: number,
): Promise<InProcessResult> {
  const repository = new ModelRepository(scenario.repository);
  const resolved = await repository.resolve(scenario.name);
  const { config } = resolved;
  // The bare session on this thread, even where the config runs inferences on their own thread.
  config.instance.inference_thread = false;
  const model = await LoadedModel.load(resolved);
  try {
    const { handler, job, item } = await prepareOne(model, scenario);
    await model.warmUp();
    const session = model.versions[0]!.session;
    const points: InProcessPoint[] = [];
    for (const batch of REFERENCE_BATCH_SIZES) {
      const point = await timeRuns(session, batchOf(item.feeds, batch), batch, budgetS);
      points.push(point);
      if (point.msPerRun > 5000) break; // the next size would take over 10 s a run: enough
    }
    const best = points.reduce((a, b) => (b.itemsPerS > a.itemsPerS ? b : a));
    const allowed = points.filter((p) => p.batch <= Math.max(1, config.max_batch_size));
    const bestAllowed = allowed.reduce((a, b) => (b.itemsPerS > a.itemsPerS ? b : a));

    const bestFeeds = batchOf(item.feeds, best.batch);
    const besideBusyCore =
      availableParallelism() > 1
        ? await besideBusyLoop(() => timeRuns(session, bestFeeds, best.batch, budgetS))
        : undefined;
    const prepareItemsPerS = await timePrepare(() => handler.prepare(job), budgetS);

    const resolvedAll = await repository.resolve(scenario.name);
    resolvedAll.config.instance.intra_op_threads = 0;
    resolvedAll.config.instance.inference_thread = false;
    const modelAll = await LoadedModel.load(resolvedAll);
    let allCores: InProcessPoint;
    let limit: InProcessResult['limit'];
    try {
      const sessionAll = modelAll.versions[0]!.session;
      allCores = await timeRuns(sessionAll, bestFeeds, best.batch, budgetS);
      const onAll = limitOnAllCores(config.instance.intra_op_threads, best, allCores);
      const sustained = await timeRuns(onAll ? sessionAll : session, bestFeeds, best.batch, limitS);
      limit = Object.assign(sustained, { threads: onAll ? 0 : config.instance.intra_op_threads });
    } finally {
      await modelAll.release();
    }
    return {
      model: scenario.name,
      threads: config.instance.intra_op_threads,
      maxBatchSize: config.max_batch_size,
      points,
      best,
      bestAllowed,
      allCores,
      limit,
      besideBusyCore,
      prepareItemsPerS,
    };
  } finally {
    await model.release();
  }
}

/**
 * Whether the limit is measured on every core: when the config says so (intra_op_threads 0, the
 * two short points are the same setting) or when every core ran the best batch size faster.
 */
export function limitOnAllCores(configThreads: number, best: InProcessPoint, allCores: InProcessPoint): boolean {
  return configThreads === 0 || allCores.itemsPerS > best.itemsPerS;
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

async function timeRuns(
  session: LoadedModel['versions'][number]['session'],
  feeds: TensorMap,
  batch: number,
  budgetS: number,
): Promise<InProcessPoint> {
  await session.run(feeds); // warm this shape
  let runs = 0;
  const started = performance.now();
  let elapsed = 0;
  while (runs < 1 || elapsed < budgetS * 1000) {
    await session.run(feeds);
    runs++;
    elapsed = performance.now() - started;
  }
  return { batch, runs, msPerRun: elapsed / runs, itemsPerS: (batch * runs * 1000) / elapsed };
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
