import { Controller, Get, Inject, Res, UseGuards } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { SCORING_TRANSPORT, type ScoringTransport } from '#runtime';
import { AdminGuard } from '../auth/admin.guard.js';
import { ApiTelemetry } from './api-telemetry.js';
import { renderStatusPage, STATUS_CSP } from './status-page.js';
import { statusReport, type StatusReport } from './status-report.js';

/**
 * The status page, behind the admin key: `GET /admin/status` (HTML) and
 * `GET /admin/status.json`. Per queue: depth, throughput, p50/p99 latency, mean batch size,
 * live workers and the versions they serve.
 */
@Controller('admin')
@UseGuards(AdminGuard)
export class StatusController {
  constructor(
    @Inject(SCORING_TRANSPORT) private readonly transport: ScoringTransport,
    @Inject(ApiTelemetry) private readonly telemetry: ApiTelemetry,
  ) {}

  @Get('status.json')
  json(): Promise<StatusReport> {
    return this.report();
  }

  @Get('status')
  async page(@Res() res: FastifyReply): Promise<void> {
    const html = renderStatusPage(await this.report());
    void res
      .header('content-type', 'text/html; charset=utf-8')
      .header('content-security-policy', STATUS_CSP)
      .header('x-content-type-options', 'nosniff')
      .header('cache-control', 'no-store')
      .send(html);
  }

  private report(): Promise<StatusReport> {
    return statusReport(this.transport, (queue) => this.telemetry.localStats(queue));
  }
}
