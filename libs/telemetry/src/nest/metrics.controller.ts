import { Controller, Get, Inject, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import type { Registry } from 'prom-client';

/** Injection token of the process's Prometheus registry. */
export const METRICS_REGISTRY = Symbol('METRICS_REGISTRY');

/** `GET /metrics`: Prometheus text exposition of the process's registry. */
@Controller()
export class MetricsController {
  constructor(@Inject(METRICS_REGISTRY) private readonly registry: Registry) {}

  @Get('metrics')
  async metrics(@Res() res: FastifyReply): Promise<void> {
    const body = await this.registry.metrics();
    void res.header('content-type', this.registry.contentType).header('cache-control', 'no-store').send(body);
  }
}
