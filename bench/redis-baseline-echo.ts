/**
 * The other end of the Redis baseline probe (see redis-baseline.ts): pops each request from
 * `<prefix>:baseline:req` and pushes a reply to `<prefix>:baseline:resp`, the push and the next pop
 * in one write. Runs until killed. argv: Redis URL, key prefix, reply bytes.
 */
import { Redis } from 'ioredis';

const [url, prefix, bytes] = process.argv.slice(2);
if (!url || !prefix) {
  console.error('usage: node dist/bench/redis-baseline-echo.js <redis-url> <prefix> [reply-bytes]');
  process.exit(2);
}
const request = `${prefix}:baseline:req`;
const reply = `${prefix}:baseline:resp`;
const body = 'r'.repeat(Number(bytes ?? 2000));
const redis = new Redis(url, { maxRetriesPerRequest: null });
redis.on('error', (err: Error) => console.error(`baseline echo: ${err.message}`));
let pipeline = redis.pipeline().blpop(request, 0);
for (;;) {
  await pipeline.exec();
  pipeline = redis.pipeline().lpush(reply, body).blpop(request, 0);
}
