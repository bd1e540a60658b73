/**
 * Reference (c), the naive queue design: a minimal Fastify server that puts each request on a
 * BullMQ queue with `queue.add` and waits with `job.waitUntilFinished(queueEvents)`. Its one
 * worker (bench/naive/worker.ts) runs the model one job at a time. No batching, no coalescing.
 *
 * Env: REDIS_URL, REDIS_PREFIX, PORT, HOST (127.0.0.1), TIMEOUT_MS (10000).
 * Route: `POST /v1/models/{m}:predict` with `{"text": "..."}` or a raw `image/*` body.
 */
import { Queue, QueueEvents } from 'bullmq';
import Fastify from 'fastify';
import { Redis } from 'ioredis';

const url = required('REDIS_URL');
const prefix = process.env.REDIS_PREFIX ?? 'naive';
const timeoutMs = Number(process.env.TIMEOUT_MS ?? 10_000);
const connection = (): Redis => new Redis(url, { maxRetriesPerRequest: null });

const queues = new Map<string, { queue: Queue; events: QueueEvents }>();

async function queueFor(model: string): Promise<{ queue: Queue; events: QueueEvents }> {
  let entry = queues.get(model);
  if (!entry) {
    const queue = new Queue(model, { connection: connection(), prefix });
    const events = new QueueEvents(model, { connection: connection(), prefix });
    entry = { queue, events };
    queues.set(model, entry);
    await events.waitUntilReady();
  }
  return entry;
}

const app = Fastify({ bodyLimit: 16 * 1024 * 1024 });
app.addContentTypeParser(/^image\/[a-z0-9.+-]+$/i, { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

app.get('/ready', async () => ({ ready: true }));

app.post<{ Params: { target: string } }>('/v1/models/:target', async (req, reply) => {
  const model = /^(.+):predict$/.exec(req.params.target)?.[1];
  if (!model) return reply.code(404).send({ error: 'expected <model>:predict' });
  const payload = Buffer.isBuffer(req.body)
    ? { images: [req.body.toString('base64')] }
    : { texts: [String((req.body as { text?: unknown } | undefined)?.text ?? '')] };
  const { queue, events } = await queueFor(model);
  const job = await queue.add(
    'score',
    { payload },
    { removeOnComplete: { count: 1000 }, removeOnFail: { count: 1000 } },
  );
  try {
    const predictions = (await job.waitUntilFinished(events, timeoutMs)) as unknown;
    return { model, predictions };
  } catch (err) {
    return reply.code(500).send({ error: (err as Error).message });
  }
});

const close = async (): Promise<void> => {
  await app.close();
  for (const { queue, events } of queues.values()) await Promise.all([queue.close(), events.close()]);
  process.exit(0);
};
process.once('SIGTERM', () => void close());
process.once('SIGINT', () => void close());

// Subscribe before the first request, so no event of it is missed.
for (const m of (process.env.MODELS ?? '').split(',').filter(Boolean)) await queueFor(m);
await app.listen({ port: Number(process.env.PORT ?? 8090), host: process.env.HOST ?? '127.0.0.1' });

function required(name: string): string {
  const v = process.env[name];
  if (!v) {
    console.error(`${name} is required`);
    process.exit(2);
  }
  return v;
}
