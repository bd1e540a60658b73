import { fork } from 'node:child_process';
import { Redis } from 'ioredis';
import { redisPerRequest, type BenchRedis } from './redis.js';
import { ENTRY, ROOT, sleep } from './services.js';
import { resolve } from 'node:path';

/**
 * What a bare request and reply through Redis cost Redis at a given pace, on this machine:
 * what any design that sends each request and each reply through Redis pays per request.
 */
export interface RedisBaseline {
  /** One round trip started every this many ms (the pace of the run it is compared with). */
  periodMs: number;
  roundTrips: number;
  /** µs of Redis CPU (user + sys) per round trip. */
  cpuUs: number;
  /** Mean µs one round trip took. */
  roundTripUs: number;
  requestBytes: number;
  replyBytes: number;
}

/** Request and reply sizes of the probe: about a FAQ lane entry and its reply. */
const REQUEST_BYTES = 300;
const REPLY_BYTES = 2000;

/**
 * Runs `roundTrips` round trips, one every `periodMs`, between this process and an echo
 * process: `LPUSH` of a request and `BLPOP` of the reply in one write here, `BLPOP` of the
 * request and `LPUSH` of the reply with the next `BLPOP` there. Per request and reply that
 * is what Switchyard's lane costs Redis at c=1 too: two reads, two deliveries, two
 * acknowledgements, and a wake-up for each message; but with nothing else running between
 * round trips, so every wake-up finds an idle machine, which on a VM can cost more.
 */
export async function measureRedisBaseline(
  redis: BenchRedis,
  prefix: string,
  periodMs: number,
  roundTrips = 2000,
): Promise<RedisBaseline> {
  const echo = fork(resolve(ROOT, ENTRY.baselineEcho), [redis.url, prefix, String(REPLY_BYTES)], { stdio: 'ignore' });
  const client = new Redis(redis.url, { maxRetriesPerRequest: 1 });
  // Sleeping between round trips with sub-millisecond precision and without spinning a core.
  const pause = new Int32Array(new SharedArrayBuffer(4));
  const body = 'q'.repeat(REQUEST_BYTES);
  const once = async (): Promise<void> => {
    const results = await client
      .pipeline()
      .lpush(`${prefix}:baseline:req`, body)
      .blpop(`${prefix}:baseline:resp`, 5)
      .exec();
    if (!results?.[1]?.[1]) throw new Error('the Redis baseline probe got no reply within 5 s');
  };
  try {
    const paced = async (n: number): Promise<number> => {
      let busyMs = 0;
      for (let i = 0; i < n; i++) {
        const started = performance.now();
        await once();
        const took = performance.now() - started;
        busyMs += took;
        if (periodMs > took) Atomics.wait(pause, 0, 0, periodMs - took);
      }
      return busyMs;
    };
    await paced(Math.min(200, roundTrips));
    const before = await redis.snapshot();
    const busyMs = await paced(roundTrips);
    const after = await redis.snapshot();
    return {
      periodMs,
      roundTrips,
      cpuUs: redisPerRequest(before, after, roundTrips).cpuUs,
      roundTripUs: (busyMs * 1000) / roundTrips,
      requestBytes: REQUEST_BYTES,
      replyBytes: REPLY_BYTES,
    };
  } finally {
    client.disconnect();
    echo.kill();
    await sleep(50);
  }
}
