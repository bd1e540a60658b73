import { Controller, Get, HttpCode, Inject, ServiceUnavailableException } from '@nestjs/common';
import { HealthCheckService, HealthIndicatorService, type HealthCheckResult } from '@nestjs/terminus';
import type { ModelServerStats } from '#runtime';
import { ModelWorkerService } from './model-worker.service.js';

interface ReadyBody extends HealthCheckResult {
  model: string;
  versions: string[];
  /** What the model server did with the jobs it took (tests and operators read it). */
  served: ModelServerStats;
}

/**
 * Liveness and readiness of a worker (@nestjs/terminus), for Kubernetes probes and compose
 * healthchecks. Ready: the model is loaded and warm, and the worker consumes its queue with
 * Redis reachable; else 503 with terminus' `{status: 'error', error: {...}}`.
 */
@Controller('health')
export class HealthController {
  constructor(
    @Inject(ModelWorkerService) private readonly worker: ModelWorkerService,
    @Inject(HealthCheckService) private readonly health: HealthCheckService,
    @Inject(HealthIndicatorService) private readonly indicators: HealthIndicatorService,
  ) {}

  /** Live unless the model can run nothing more (its inference thread died): restart the worker. */
  @Get('live')
  @HttpCode(200)
  live(): { status: string } {
    const failure = this.worker.modelServer?.model.failure;
    if (failure) throw new ServiceUnavailableException({ status: 'error', message: failure.message });
    return { status: 'ok' };
  }

  @Get('ready')
  async ready(): Promise<ReadyBody> {
    const result = await this.health.check([() => this.model(), () => this.queue()]);
    const server = this.worker.modelServer!;
    const meta = server.model.metadata;
    return { ...result, model: meta.name, versions: meta.versions, served: server.stats };
  }

  /** Loaded and warm (the server exists only after its warm-up inference), and able to run. */
  private model() {
    const check = this.indicators.check('model');
    const server = this.worker.modelServer;
    if (!server) return check.down({ message: 'loading' });
    const failure = server.model.failure;
    return failure ? check.down({ message: failure.message }) : check.up({ versions: server.model.metadata.versions });
  }

  /** Consuming its queue, with every Redis connection ready. */
  private queue() {
    const check = this.indicators.check('queue');
    return this.worker.isReady() ? check.up() : check.down({ message: 'not consuming, or Redis unreachable' });
  }
}
