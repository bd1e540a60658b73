import { fork } from 'node:child_process';
import { Redis } from 'ioredis';
import { redisPerRequest, type BenchRedis } from './redis.js';
import { ENTRY, ROOT, sleep } from './services.js';
import { resolve } from 'node:path';

/**
 * What a bare request and reply through Redis cost Redis at a given pace: the floor under any
 * design that sends each request and each reply through Redis, measured on this machine.
 */
export interface RedisFloor {
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
 * request and `LPUSH` of the reply with the next `BLPOP` there. That is the least a request
 * and its reply can cost Redis: two reads, two deliveries and two acknowledgements, and a
 * wake-up for each message. Nothing else of the benchmark runs meanwhile.
 */
export async function measureRedisFloor(
  redis: BenchRedis,
  prefix: string,
  periodMs: number,
  roundTrips = 2000,
): Promise<RedisFloor> {
  const echo = fork(resolve(ROOT, ENTRY.floorEcho), [redis.url, prefix, String(REPLY_BYTES)], { stdio: 'ignore' });
  const client = new Redis(redis.url, { maxRetriesPerRequest: 1 });
  // Sleeping between round trips with sub-millisecond precision and without spinning a core.
  const pause = new Int32Array(new SharedArrayBuffer(4));
  const body = 'q'.repeat(REQUEST_BYTES);
  const once = async (): Promise<void> => {
    const results = await client.pipeline().lpush(`${prefix}:floor:req`, body).blpop(`${prefix}:floor:resp`, 5).exec();
    if (!results?.[1]?.[1]) throw new Error('the Redis floor probe got no reply within 5 s');
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
