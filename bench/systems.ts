import { ENTRY, freePort, Service, stopAll } from './services.js';
import type { ModelScenario } from './scenarios.js';

/**
 * The systems compared: Switchyard distributed (API + one worker over Redis), (b) the same
 * API embedded (no Redis, in-process inference), (c) the naive BullMQ design.
 */
export type SystemName = 'switchyard' | 'embedded' | 'naive';

/** A started system: where to send load and which processes' CPU to count. */
export interface RunningSystem {
  name: SystemName;
  url: string;
  /** The HTTP front process (API or naive server). */
  front: Service;
  /** The inference process when it is separate (worker); undefined when embedded. */
  back?: Service;
  /** Redis key prefix (undefined when the system uses no Redis). */
  prefix?: string;
  stop(): Promise<void>;
}

/** Environment every benchmarked API gets: no endpoint keys (the cost of auth is not measured). */
const API_ENV = { AUTH: 'off' };

/** How to start a system for one scenario. */
export interface StartOptions {
  redisUrl: string;
  /** A fresh key prefix per system and model. */
  prefix: string;
  /** Extra environment for the worker (e.g. WORKER_CONCURRENCY). */
  workerEnv?: Record<string, string>;
  /** Node flags for the front and back processes (e.g. `--cpu-prof`). */
  nodeArgs?: string[];
}

export async function startSystem(
  name: SystemName,
  scenario: ModelScenario,
  opts: StartOptions,
): Promise<RunningSystem> {
  if (name === 'embedded') return startEmbedded(scenario, opts);
  if (name === 'naive') return startNaive(scenario, opts);
  return startSwitchyard(scenario, opts);
}

/** Starts a Switchyard worker for the scenario's model and waits until it consumes its queue. */
export async function launchWorker(scenario: ModelScenario, opts: StartOptions): Promise<Service> {
  const port = await freePort();
  const worker = Service.launch(
    `worker(${scenario.name})`,
    ENTRY.worker,
    {
      REDIS_URL: opts.redisUrl,
      REDIS_PREFIX: opts.prefix,
      MODEL_REPOSITORY: scenario.repository,
      MODEL: scenario.name,
      HEALTH_PORT: String(port),
      ...opts.workerEnv,
    },
    port,
    opts.nodeArgs,
  );
  return worker.waitReady('/health/ready').catch(async (err: unknown) => {
    await worker.stop();
    throw err;
  });
}

/** Starts a Redis-backed API; `waitFor` is a path that must answer 200 (e.g. a model's readiness). */
export async function launchApi(opts: StartOptions, waitFor = '/v2/health/ready'): Promise<Service> {
  const port = await freePort();
  const api = Service.launch(
    'api',
    ENTRY.api,
    { REDIS_URL: opts.redisUrl, REDIS_PREFIX: opts.prefix, PORT: String(port), ...API_ENV },
    port,
    opts.nodeArgs,
  );
  return api.waitReady(waitFor).catch(async (err: unknown) => {
    await api.stop();
    throw err;
  });
}

async function startSwitchyard(scenario: ModelScenario, opts: StartOptions): Promise<RunningSystem> {
  const [worker, api] = await Promise.allSettled([launchWorker(scenario, opts), launchApi(opts)]);
  if (worker.status === 'rejected' || api.status === 'rejected') {
    await stopAll([worker, api].map((r) => (r.status === 'fulfilled' ? r.value : undefined)));
    throw worker.status === 'rejected' ? worker.reason : (api as PromiseRejectedResult).reason;
  }
  const stop = (): Promise<void> => stopAll([api.value, worker.value]);
  try {
    // The API learns of the worker from its announcement: wait until it knows.
    await api.value.waitReady(`/v2/models/${scenario.name}/ready`);
  } catch (err) {
    await stop();
    throw err;
  }
  return { name: 'switchyard', url: api.value.url, front: api.value, back: worker.value, prefix: opts.prefix, stop };
}

async function startEmbedded(scenario: ModelScenario, opts: StartOptions): Promise<RunningSystem> {
  const port = await freePort();
  const api = Service.launch(
    'api(embedded)',
    ENTRY.api,
    { MODEL_REPOSITORY: scenario.repository, EMBEDDED_MODELS: scenario.name, PORT: String(port), ...API_ENV },
    port,
    opts.nodeArgs,
  );
  try {
    await api.waitReady(`/v2/models/${scenario.name}/ready`);
  } catch (err) {
    await api.stop();
    throw err;
  }
  return { name: 'embedded', url: api.url, front: api, stop: () => api.stop() };
}

async function startNaive(scenario: ModelScenario, opts: StartOptions): Promise<RunningSystem> {
  const common = { REDIS_URL: opts.redisUrl, REDIS_PREFIX: opts.prefix };
  const workerPort = await freePort();
  const worker = Service.launch(
    `naive-worker(${scenario.name})`,
    ENTRY.naiveWorker,
    { ...common, MODEL: scenario.name, MODEL_REPOSITORY: scenario.repository, HEALTH_PORT: String(workerPort) },
    workerPort,
    opts.nodeArgs,
  );
  const port = await freePort();
  const server = Service.launch(
    'naive-server',
    ENTRY.naiveServer,
    { ...common, PORT: String(port), MODELS: scenario.name, TIMEOUT_MS: String(scenario.timeoutS * 1000) },
    port,
    opts.nodeArgs,
  );
  try {
    await Promise.all([worker.waitReady('/'), server.waitReady('/ready')]);
  } catch (err) {
    await stopAll([server, worker]);
    throw err;
  }
  return {
    name: 'naive',
    url: server.url,
    front: server,
    back: worker,
    prefix: opts.prefix,
    stop: () => stopAll([server, worker]),
  };
}
