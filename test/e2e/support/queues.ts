import { Redis } from 'ioredis';
import { getJson } from './http.js';
import { sleep, type ServiceProcess } from './processes.js';
import { REDIS_URL } from './redis.js';

/** A plain connection for looking into queues from a test. */
export function testRedis(url = REDIS_URL): Redis {
  const redis = new Redis(url, { maxRetriesPerRequest: 1, lazyConnect: false });
  redis.on('error', () => undefined);
  return redis;
}

/** BullMQ key of a model's queue: `<prefix>:<model>:<suffix>` (wait, active, prioritized, ...). */
export function queueKey(prefix: string, model: string, suffix: string): string {
  return `${prefix}:${model}:${suffix}`;
}

/** A lane entry as stored: `<taken back>|<envelope JSON>`. */
function laneItems(entry: string): { deadline: number }[] {
  return (JSON.parse(entry.slice(entry.indexOf('|') + 1)) as { items: { deadline: number }[] }).items;
}

/**
 * Requests waiting in a model's queue (the direct lane, the wait list and the prioritized
 * set), read from their jobs: an envelope holds several. Lane envelopes filed under a worker
 * count too: a worker blocked on the lane takes the first envelope inside Redis even while
 * SIGSTOPped, and these tests stop workers to make requests wait.
 */
export async function waitingRequests(
  redis: Redis,
  prefix: string,
  model: string,
  { includeHeld = true } = {},
): Promise<{ deadline: number }[]> {
  const workers = includeHeld ? await redis.smembers(`${prefix}:_lane:${model}:workers`) : [];
  const [lane, wait, prioritized, ...held] = await Promise.all([
    redis.lrange(`${prefix}:_lane:${model}`, 0, -1),
    redis.lrange(queueKey(prefix, model, 'wait'), 0, -1),
    redis.zrange(queueKey(prefix, model, 'prioritized'), '0', '-1'),
    ...workers.map((id) => redis.lrange(`${prefix}:_lane:${model}:held:${id}`, 0, -1)),
  ]);
  const inLane = [...lane, ...held.flat()].flatMap(laneItems);
  const ids = [...wait, ...prioritized];
  if (ids.length === 0) return inLane;
  const pipeline = redis.pipeline();
  for (const id of ids) pipeline.hget(queueKey(prefix, model, id), 'data');
  const results = (await pipeline.exec()) ?? [];
  return inLane.concat(
    results.flatMap(([, data]) => {
      if (typeof data !== 'string') return [];
      const work = JSON.parse(data) as { deadline: number } | { items: { deadline: number }[] };
      return 'items' in work ? work.items : [work];
    }),
  );
}

/** Jobs workers hold: BullMQ's active list plus every worker's held list on the direct lane. */
export async function heldJobs(redis: Redis, prefix: string, model: string): Promise<number> {
  const workers = await redis.smembers(`${prefix}:_lane:${model}:workers`);
  const lengths = await Promise.all([
    redis.llen(queueKey(prefix, model, 'active')),
    ...workers.map((id) => redis.llen(`${prefix}:_lane:${model}:held:${id}`)),
  ]);
  return lengths.reduce((a, b) => a + b, 0);
}

/** The id a worker process announced for a model (names its lane keys and connections). */
export async function workerIdOf(redis: Redis, prefix: string, model: string, pid: number): Promise<string> {
  const hash = await redis.hgetall(`${prefix}:_catalog:${model}`);
  const workerId = Object.entries(hash).find(([, v]) => (JSON.parse(v) as { pid?: number }).pid === pid)?.[0];
  if (!workerId) throw new Error(`no announcement of pid ${pid} for model ${model}`);
  return workerId;
}

/** Lane envelopes one worker process holds (its held list). */
export async function laneHeldBy(redis: Redis, prefix: string, model: string, pid: number): Promise<number> {
  return redis.llen(`${prefix}:_lane:${model}:held:${await workerIdOf(redis, prefix, model, pid)}`);
}

/** Jobs taken back from workers that died holding them: BullMQ's stalled events plus the lane's count. */
export async function takenBackJobs(redis: Redis, prefix: string, model: string): Promise<number> {
  const [events, lane] = await Promise.all([
    redis.xrange(queueKey(prefix, model, 'events'), '-', '+'),
    redis.get(`${prefix}:_lane:${model}:taken_back`),
  ]);
  return events.filter(([, f]) => f[0] === 'event' && f[1] === 'stalled').length + Number(lane ?? 0);
}

/** How many requests wait in a model's queue (see waitingRequests). */
export async function waitingJobs(redis: Redis, prefix: string, model: string, options = {}): Promise<number> {
  return (await waitingRequests(redis, prefix, model, options)).length;
}

const UUID = /^(e-)?[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Ids of every job hash of a model's queue (the API names jobs by UUID, envelopes `e-<UUID>`). */
export async function jobIds(redis: Redis, prefix: string, model: string): Promise<string[]> {
  const ids: string[] = [];
  let cursor = '0';
  const base = `${prefix}:${model}:`;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${base}*`, 'COUNT', 1000);
    cursor = next;
    for (const k of keys) {
      const rest = k.slice(base.length);
      if (UUID.test(rest)) ids.push(rest);
    }
  } while (cursor !== '0');
  return ids;
}

/** Samples the waiting-job count every `everyMs` until stopped; keeps the largest seen. */
export function sampleDepth(
  redis: Redis,
  prefix: string,
  model: string,
  everyMs = 5,
): { stop: () => Promise<number>; readonly max: number } {
  let max = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      max = Math.max(max, await waitingJobs(redis, prefix, model).catch(() => 0));
      await sleep(everyMs);
    }
  })();
  return {
    get max() {
      return max;
    },
    stop: async () => {
      running = false;
      await loop;
      return max;
    },
  };
}

/**
 * Keeps a SIGSTOPped worker's heartbeat fresh in the catalog, so the API goes on counting it
 * live (as it would a worker that is slow, not gone) however long the test holds it stopped.
 * Without this the API stops routing to it after the live window (6 s), which on a busy
 * machine can fall inside a test's setup. Returns a function that stops the keeper.
 */
export function holdHeartbeat(redis: Redis, prefix: string, model: string, pid: number): () => Promise<void> {
  let running = true;
  const key = `${prefix}:_catalog:${model}`;
  const loop = (async () => {
    while (running) {
      const hash = await redis.hgetall(key).catch(() => ({}) as Record<string, string>);
      for (const [field, value] of Object.entries(hash)) {
        const ann = JSON.parse(value) as { pid?: number; heartbeatAt: number };
        if (ann.pid !== pid) continue;
        ann.heartbeatAt = Date.now();
        await redis.hset(key, field, JSON.stringify(ann)).catch(() => undefined);
      }
      await sleep(500);
    }
  })();
  return async () => {
    running = false;
    await loop;
  };
}

/**
 * Wakes a SIGSTOPped worker's blocked lane read. Left blocked, that `BLMOVE` takes the next
 * envelope inside Redis although the worker cannot serve it, and the API's depth estimate
 * counts nothing while no job waits in the lane or BullMQ: a burst could then look like an
 * empty queue to admission. Woken, the read returns nothing, and the worker reads again once
 * it resumes. A read sent just before the stop may reach Redis after a first look, so this
 * looks until two looks in a row find it not blocked.
 */
export async function unblockLaneRead(redis: Redis, prefix: string, model: string, pid: number): Promise<void> {
  const workerId = await workerIdOf(redis, prefix, model, pid);
  const name = `name=sy-worker-lane-${workerId} `;
  for (let quiet = 0; quiet < 2;) {
    const clients = ((await redis.client('LIST')) as string).split('\n');
    const line = clients.find((l) => l.includes(name));
    const blocked = line && /flags=\S*b/.test(line) ? /^id=(\d+)/.exec(line)?.[1] : undefined;
    if (blocked) {
      await redis.client('UNBLOCK', blocked);
      quiet = 0;
    } else quiet++;
    await sleep(50);
  }
}

/** What a worker has done with the jobs it took (its `GET /health/ready`). */
export interface Served {
  succeeded: number;
  failed: number;
  expired: number;
  cancelled: number;
}

export async function served(worker: ServiceProcess): Promise<Served> {
  const res = await getJson(`${worker.url}/health/ready`);
  if (res.status !== 200) throw new Error(`${worker.name} not ready: ${JSON.stringify(res.body)}`);
  return res.body.served as Served;
}

export function total(s: Served): number {
  return s.succeeded + s.failed + s.expired + s.cancelled;
}

/** Polls `check` until it returns true, or fails with `what` after `timeoutMs`. */
export async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < until) {
    try {
      if (await check()) return;
    } catch (err) {
      lastError = err;
    }
    await sleep(100);
  }
  throw new Error(`not within ${timeoutMs} ms: ${what}${lastError ? ` (last error: ${String(lastError)})` : ''}`);
}
