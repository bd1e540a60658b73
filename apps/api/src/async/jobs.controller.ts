import { Controller, Get, Inject, Param, UseGuards } from '@nestjs/common';
import { AdminGuard } from '../auth/admin.guard.js';
import type { JobStatusBody } from '#contracts';
import { AsyncJobService } from './async-job.service.js';

/** `GET /v1/jobs/{id}`: the status of an async job, with its result once it has succeeded. */
// Async jobs are submitted on the model routes, which need the admin key when AUTH is on.
@Controller('v1/jobs')
@UseGuards(AdminGuard)
export class JobsController {
  constructor(@Inject(AsyncJobService) private readonly jobs: AsyncJobService) {}

  @Get(':id')
  async status(@Param('id') id: string): Promise<JobStatusBody> {
    return this.jobs.status(id);
  }
}
