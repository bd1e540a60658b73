import {
  Body,
  Controller,
  Get,
  Headers,
  HttpCode,
  Inject,
  Param,
  Post,
  Res,
  UseGuards,
  UsePipes,
} from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { ScoringError, type AsyncAcceptedBody, type ModelMetadata, type TensorSpec } from '#contracts';
import { AdminGuard } from '../auth/admin.guard.js';
import { AsyncJobService } from '../async/async-job.service.js';
import { wantsAsync } from '../async/async-reply.js';
import { LifecycleService } from '../health/lifecycle.service.js';
import { clientGone } from '../http/client-abort.js';
import { TensorBodyValidationPipe } from '../http/tensor-body-validation.pipe.js';
import { InferRequestDto } from './infer-request.dto.js';
import { binaryOutputs, inferResponse, refuseAsyncBinary, type InferResponse } from './infer-response.js';
import { ScoringService, type ScoreRequest } from './scoring.service.js';
import { serverTiming } from './server-timing.js';
import { tensorRequest } from './tensor-request.js';

interface ModelMetadataResponse {
  name: string;
  versions: string[];
  platform: string;
  inputs: TensorSpec[];
  outputs: TensorSpec[];
}

/** Open Inference Protocol (KServe v2) REST: metadata, readiness and inference. */
@Controller('v2')
export class OipController {
  constructor(
    @Inject(ScoringService) private readonly scoring: ScoringService,
    @Inject(LifecycleService) private readonly lifecycle: LifecycleService,
    @Inject(AsyncJobService) private readonly jobs: AsyncJobService,
  ) {}

  @Get()
  server(): { name: string; version: string; extensions: string[] } {
    return {
      name: 'switchyard',
      version: process.env.npm_package_version ?? '0.1.0',
      extensions: ['binary_tensor_data'],
    };
  }

  // GET /v2/health/live and /v2/health/ready: observability/api-health.controller.ts (terminus).

  @Get('models/:model')
  async metadata(@Param('model') model: string): Promise<ModelMetadataResponse> {
    return describe((await this.scoring.model(model)).metadata);
  }

  @Get('models/:model/versions/:version')
  async versionMetadata(
    @Param('model') model: string,
    @Param('version') version: string,
  ): Promise<ModelMetadataResponse> {
    return { ...describe((await this.scoring.model(model, version)).metadata), versions: [version] };
  }

  @Get('models/:model/ready')
  async modelReady(@Param('model') model: string): Promise<{ name: string; ready: boolean }> {
    return this.readiness(model);
  }

  @Get('models/:model/versions/:version/ready')
  async versionReady(
    @Param('model') model: string,
    @Param('version') version: string,
  ): Promise<{ name: string; ready: boolean }> {
    return this.readiness(model, version);
  }

  // With AUTH on, scoring a model directly (not through an endpoint) needs the admin key.
  @Post('models/:model/infer')
  @UseGuards(AdminGuard)
  @HttpCode(200)
  @UsePipes(TensorBodyValidationPipe)
  async infer(
    @Param('model') model: string,
    @Body() body: InferRequestDto,
    @Headers('x-timeout-ms') timeout: string | undefined,
    @Res({ passthrough: true }) res: FastifyReply,
  ): Promise<InferResponse | Buffer | AsyncAcceptedBody> {
    return this.runInfer(model, undefined, body, timeout, res);
  }

  @Post('models/:model/versions/:version/infer')
  @UseGuards(AdminGuard)
  @HttpCode(200)
  @UsePipes(TensorBodyValidationPipe)
  async inferVersion(
    @Param('model') model: string,
    @Param('version') version: string,
    @Body() body: InferRequestDto,
    @Headers('x-timeout-ms') timeout: string | undefined,
    @Res({ passthrough: true }) res: FastifyReply,
  ): Promise<InferResponse | Buffer | AsyncAcceptedBody> {
    return this.runInfer(model, version, body, timeout, res);
  }

  private async readiness(model: string, version?: string): Promise<{ name: string; ready: boolean }> {
    const entry = await this.scoring.model(model, version);
    // The server's readiness (not draining, backend reachable) and a live worker for the model.
    if (entry.liveWorkers === 0 || !this.scoring.isHealthy() || this.lifecycle.draining)
      throw ScoringError.unavailable(`model '${model}' is not ready`);
    return { name: model, ready: true };
  }

  private async runInfer(
    model: string,
    version: string | undefined,
    body: InferRequestDto,
    timeoutHeader: string | undefined,
    res: FastifyReply,
  ): Promise<InferResponse | Buffer | AsyncAcceptedBody> {
    const entry = await this.scoring.model(model, version);
    // Object.assign, not a spread: spreading the request took ~1 µs (measured), 8× as long.
    const request: ScoreRequest = Object.assign(tensorRequest(entry, body, res.request), { model, version });
    const binary = binaryOutputs(body);
    if (wantsAsync(res.request)) {
      refuseAsyncBinary(binary);
      return this.jobs.accept(request, entry, res, { protocol: 'oip', callbackUrl: body.parameters?.callback_url });
    }
    const result = await this.scoring.score(request, entry, clientGone(res));
    void res.header('server-timing', serverTiming(result.timings));
    return inferResponse(res, binary, {
      model_name: model,
      model_version: result.version,
      id: body.id ?? '',
      outputs: result.outputs ?? [],
    });
  }
}

function describe(meta: ModelMetadata): ModelMetadataResponse {
  return {
    name: meta.name,
    versions: meta.versions,
    platform: meta.platform,
    inputs: meta.inputs,
    outputs: meta.outputs,
  };
}
