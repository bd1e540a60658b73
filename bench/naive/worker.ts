/**
 * The worker of the naive queue design (reference (c)): one BullMQ Worker with concurrency 1
 * that prepares each job with the model's own handler, runs the ONNX session on it alone and
 * returns the predictions as the job's return value. No batching.
 *
 * Env: REDIS_URL, REDIS_PREFIX, MODEL, MODEL_REPOSITORY, HEALTH_PORT (answers 200 once consuming).
 */
import { createServer } from 'node:http';
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import type { ScoringJob } from '#contracts';
import { createFriendlyHandler, LoadedModel, ModelRepository } from '#runtime';

const url = process.env.REDIS_URL!;
const prefix = process.env.REDIS_PREFIX ?? 'naive';
const name = process.env.MODEL!;
let ready = false;

const health = createServer((_req, res) => {
  res.statusCode = ready ? 200 : 503;
  res.end(ready ? 'ready' : 'loading');
});
health.listen(Number(process.env.HEALTH_PORT ?? 8091), '127.0.0.1');

const resolved = await new ModelRepository(process.env.MODEL_REPOSITORY ?? './models').resolve(name);
const model = await LoadedModel.load(resolved);
const friendly = await createFriendlyHandler(model);
if (!friendly) throw new Error(`model '${name}' has no friendly handler`);
const handler = friendly;
await model.warmUp();
const session = model.versions[0]!.session;

const worker = new Worker<{ payload: unknown }, unknown>(
  name,
  async (job) => {
    const scoring: ScoringJob = {
      id: job.id ?? '',
      model: name,
      kind: 'friendly',
      payload: job.data.payload,
      replyTo: '',
      deadline: Date.now() + 60_000,
      acceptedAt: Date.now(),
    };
    const item = await handler.prepare(scoring);
    const outputs = await session.run(item.feeds);
    return handler.finish(scoring, outputs).result;
  },
  { connection: new Redis(url, { maxRetriesPerRequest: null }), prefix, concurrency: 1 },
);
worker.on('error', (err) => console.error(`worker: ${err.message}`));
await worker.waitUntilReady();
ready = true;

process.once('SIGTERM', () => {
  ready = false;
  void worker
    .close()
    .then(() => model.release())
    .finally(() => process.exit(0));
});
