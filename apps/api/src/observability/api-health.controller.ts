import { Controller, Get, Inject, ServiceUnavailableException } from '@nestjs/common';
import { HealthCheckService, HealthIndicatorService, type HealthCheckResult } from '@nestjs/terminus';
import { ScoringError } from '#contracts';
import { ApiEnv, SCORING_TRANSPORT, type ScoringTransport } from '#runtime';
import { LifecycleService } from '../health/lifecycle.service.js';

/**
 * OIP server health with @nestjs/terminus. Live: the process answers. Ready: not draining, and
 * the queue backend is reachable (Redis) or, embedded, the models are loaded. A 503 keeps the
 * API's error shape, `{"error": "not ready: ..."}`.
 */
@Controller('v2/health')
export class ApiHealthController {
  constructor(
    @Inject(HealthCheckService) private readonly health: HealthCheckService,
    @Inject(HealthIndicatorService) private readonly indicators: HealthIndicatorService,
    @Inject(LifecycleService) private readonly lifecycle: LifecycleService,
    @Inject(SCORING_TRANSPORT) private readonly transport: ScoringTransport,
    @Inject(ApiEnv) private readonly env: ApiEnv,
  ) {}

  @Get('live')
  live(): { live: boolean } {
    return { live: true };
  }

  @Get('ready')
  async ready(): Promise<{ ready: boolean } & HealthCheckResult> {
    try {
      const result = await this.health.check([() => this.serving(), () => this.backend()]);
      return { ready: true, ...result };
    } catch (err) {
      if (!(err instanceof ServiceUnavailableException)) throw err;
      const failed = Object.values((err.getResponse() as HealthCheckResult).error ?? {});
      const reasons = failed.map((f) => String(f?.message ?? 'down'));
      throw ScoringError.unavailable(`not ready: ${reasons.join('; ') || 'unknown'}`);
    }
  }

  private serving() {
    const check = this.indicators.check('lifecycle');
    return this.lifecycle.draining ? check.down({ message: 'shutting down' }) : check.up();
  }

  private backend() {
    const embedded = !this.env.REDIS_URL;
    const check = this.indicators.check(embedded ? 'models' : 'redis');
    if (this.transport.isHealthy()) return check.up();
    return check.down({ message: embedded ? 'models not loaded' : 'queue backend unreachable' });
  }
}
