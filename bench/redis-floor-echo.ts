/**
 * The other end of the Redis floor probe (see redis-floor.ts): pops each request from
 * `<prefix>:floor:req` and pushes a reply to `<prefix>:floor:resp`, the push and the next pop
 * in one write. Runs until killed. argv: Redis URL, key prefix, reply bytes.
 */
import { Redis } from 'ioredis';

const [url, prefix, bytes] = process.argv.slice(2);
if (!url || !prefix) {
  console.error('usage: node dist/bench/redis-floor-echo.js <redis-url> <prefix> [reply-bytes]');
  process.exit(2);
}
const request = `${prefix}:floor:req`;
const reply = `${prefix}:floor:resp`;
const body = 'r'.repeat(Number(bytes ?? 2000));
const redis = new Redis(url, { maxRetriesPerRequest: null });
redis.on('error', (err: Error) => console.error(`floor echo: ${err.message}`));
let pipeline = redis.pipeline().blpop(request, 0);
for (;;) {
  await pipeline.exec();
  pipeline = redis.pipeline().lpush(reply, body).blpop(request, 0);
}
