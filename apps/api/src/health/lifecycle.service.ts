import { Inject, Injectable, Logger, type BeforeApplicationShutdown } from '@nestjs/common';
import { ApiEnv } from '#runtime';

/**
 * Graceful shutdown, first half: on SIGTERM the instance reports not-ready and keeps serving
 * for SHUTDOWN_DRAIN_MS, so load balancers move traffic away. Then Nest closes the listener
 * (requests in flight finish) and the transport waits for pending replies up to their deadlines.
 */
@Injectable()
export class LifecycleService implements BeforeApplicationShutdown {
  private readonly logger = new Logger('Lifecycle');
  draining = false;

  constructor(@Inject(ApiEnv) private readonly env: ApiEnv) {}

  async beforeApplicationShutdown(signal?: string): Promise<void> {
    this.draining = true;
    this.logger.log(`${signal ?? 'shutdown'}: not ready; draining for ${this.env.SHUTDOWN_DRAIN_MS} ms before closing`);
    await new Promise((resolve) => setTimeout(resolve, this.env.SHUTDOWN_DRAIN_MS));
  }
}
