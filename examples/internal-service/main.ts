import 'reflect-metadata';
import { createInternalService } from './internal-service.module.js';

/**
 * `SWITCHYARD_REDIS_URL=redis://127.0.0.1:6379 SWITCHYARD_URL=http://127.0.0.1:8080 \
 *  node dist/examples/internal-service/main.js`, then `curl 'localhost:3000/ask?q=what+is+a+closure'`.
 */
async function main(): Promise<void> {
  const app = await createInternalService({
    redisUrl: process.env.SWITCHYARD_REDIS_URL ?? 'redis://127.0.0.1:6379',
    prefix: process.env.SWITCHYARD_PREFIX ?? 'sy',
    apiUrl: process.env.SWITCHYARD_URL ?? 'http://127.0.0.1:8080',
    apiKey: process.env.SWITCHYARD_API_KEY,
  });
  const port = Number(process.env.PORT ?? 3000);
  await app.listen(port, process.env.HOST ?? '127.0.0.1');
  console.warn(`internal service on http://127.0.0.1:${port}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
