import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { ApiEnv, ConfigError, RedisTransport, SCORING_TRANSPORT, type ScoringTransport } from '#runtime';
import { ASYNC_BACKEND, WebhookDelivery, type AsyncBackend } from './async-backend.js';
import { AsyncJobService } from './async-job.service.js';
import { AcceptedStatusHook } from './async-reply.js';
import { JobsController } from './jobs.controller.js';
import { MemoryAsyncBackend } from './memory-async-backend.js';
import { RedisAsyncBackend } from './redis-async-backend.js';
import { WebhookAllowList } from './webhooks/allow-list.js';
import { WebhookSender } from './webhooks/webhook-sender.js';

/** Closes the backend once the HTTP server has stopped taking requests. */
@Injectable()
class AsyncBackendCloser implements OnApplicationShutdown {
  constructor(@Inject(ASYNC_BACKEND) private readonly backend: AsyncBackend) {}

  async onApplicationShutdown(): Promise<void> {
    await this.backend.close();
  }
}

/**
 * Async jobs (`Prefer: respond-async` on the scoring routes, `GET /v1/jobs/{id}`) and their
 * webhooks. Exports AsyncJobService for the scoring controllers.
 */
@Module({})
export class AsyncModule {
  static forRoot(env: ApiEnv, transport: ScoringTransport): DynamicModule {
    const allowList = new WebhookAllowList(env.WEBHOOK_ALLOWED_HOSTS);
    if (allowList.enabled && !env.WEBHOOK_SECRET) {
      throw new ConfigError('invalid environment:\n  - WEBHOOK_SECRET is required when WEBHOOK_ALLOWED_HOSTS is set');
    }
    return {
      module: AsyncModule,
      // Global: the endpoint routes (ManagementModule) accept async requests too.
      global: true,
      controllers: [JobsController],
      providers: [
        { provide: ApiEnv, useValue: env },
        { provide: SCORING_TRANSPORT, useValue: transport },
        { provide: WebhookAllowList, useValue: allowList },
        { provide: ASYNC_BACKEND, useFactory: () => createBackend(env, transport, allowList) },
        AsyncJobService,
        AcceptedStatusHook,
        AsyncBackendCloser,
      ],
      exports: [AsyncJobService],
    };
  }
}

function createBackend(env: ApiEnv, transport: ScoringTransport, allowList: WebhookAllowList): AsyncBackend {
  const delivery =
    allowList.enabled && env.WEBHOOK_SECRET
      ? new WebhookDelivery(
          new WebhookSender(allowList, { secret: env.WEBHOOK_SECRET, timeoutMs: env.WEBHOOK_TIMEOUT_MS }),
        )
      : undefined;
  const retry = { attempts: env.WEBHOOK_MAX_ATTEMPTS, baseMs: env.WEBHOOK_RETRY_BASE_MS };
  if (transport instanceof RedisTransport && env.REDIS_URL) {
    const instanceId = `${process.env.HOSTNAME ?? 'api'}-${process.pid}-${randomUUID().slice(0, 8)}`;
    return new RedisAsyncBackend(
      transport,
      { url: env.REDIS_URL, prefix: env.REDIS_PREFIX, instanceId, retry },
      delivery,
    );
  }
  return new MemoryAsyncBackend(transport, delivery, retry);
}
