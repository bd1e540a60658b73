import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter as BoardAdapter } from '@bull-board/fastify';
import type { ExecutionContext } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Queue } from 'bullmq';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ScoringError } from '#contracts';
import { RedisTransport, type ApiEnv, type ScoringTransport } from '#runtime';
import { AdminGuard } from '../auth/admin.guard.js';

/** Where the board is served. */
export const QUEUE_BOARD_PATH = '/admin/queues';

/** How often the board's queue list follows the catalog (queues come and go with deployments). */
const REFRESH_MS = 5000;

/**
 * Mounts bull-board at /admin/queues on the underlying Fastify instance, behind the admin key
 * (the app's AdminGuard, called from an onRequest hook of the board's scope). It shows every
 * queue in the catalog. Distributed mode only: embedded mode has no queues.
 */
export async function mountQueueBoard(
  app: NestFastifyApplication,
  env: ApiEnv,
  transport: ScoringTransport,
): Promise<boolean> {
  if (!(transport instanceof RedisTransport)) return false;
  const board = new BoardAdapter();
  board.setBasePath(QUEUE_BOARD_PATH);
  const { replaceQueues } = createBullBoard({ queues: [], serverAdapter: board });
  const queues = new Map<string, Queue>();
  let refreshedAt = 0;
  const refresh = async (): Promise<void> => {
    if (Date.now() - refreshedAt < REFRESH_MS) return;
    refreshedAt = Date.now();
    for (const name of (await transport.catalog()).keys()) {
      if (queues.has(name)) continue;
      const queue = new Queue(name, {
        connection: transport.redis,
        prefix: env.REDIS_PREFIX,
        skipWaitingForReady: true,
      });
      queue.on('error', () => undefined);
      queues.set(name, queue);
    }
    replaceQueues([...queues.values()].map((q) => new BullMQAdapter(q)));
  };
  // The app's own guard instance, so the board follows whatever the admin routes accept.
  const guard = app.get(AdminGuard, { strict: false });
  await app.register(
    async (scope: FastifyInstance) => {
      scope.addHook('onRequest', async (request, reply) => {
        try {
          guard.canActivate(httpContext(request));
        } catch (err) {
          const status = err instanceof ScoringError ? err.status : 401;
          return reply.code(status).send({ error: (err as Error).message });
        }
        await refresh().catch(() => undefined);
      });
      await scope.register(board.registerPlugin());
    },
    { prefix: QUEUE_BOARD_PATH },
  );
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onClose', async () => {
      await Promise.all([...queues.values()].map((q) => q.close().catch(() => undefined)));
    });
  return true;
}

/** The slice of an ExecutionContext AdminGuard reads. */
function httpContext(request: FastifyRequest): ExecutionContext {
  return { switchToHttp: () => ({ getRequest: () => request }) } as unknown as ExecutionContext;
}
