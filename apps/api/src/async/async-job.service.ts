import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import {
  ScoringError,
  type AsyncAcceptedBody,
  type AsyncJobProtocol,
  type AsyncJobRecord,
  type JobStatusBody,
  type ScoringJob,
} from '#contracts';
import { ApiEnv, SCORING_TRANSPORT, type CatalogEntry, type ScoringTransport } from '#runtime';
import { assertQueueRoom, effectiveTimeout, parsePriority, type ScoreRequest } from '../inference/scoring.service.js';
import { jobObservations } from '../observability/request-scope.js';
import { ASYNC_BACKEND, type AsyncBackend } from './async-backend.js';
import { acceptAsync } from './async-reply.js';
import { statusBody } from './job-view.js';
import { WebhookAllowList } from './webhooks/allow-list.js';

/** How the scoring route hands an async request over. */
export interface AsyncRoute {
  protocol: AsyncJobProtocol;
  /** `parameters.callback_url` of the body, if any (the `Callback-Url` header is read here). */
  callbackUrl?: unknown;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Async scoring: the same validated request as the synchronous route, with its own, longer
 * deadline (ASYNC_DEFAULT_TIMEOUT_MS, which a request may lower) and a lower default
 * priority. Answers `202` with the job's location at once; results are read by id.
 */
@Injectable()
export class AsyncJobService {
  constructor(
    @Inject(ASYNC_BACKEND) private readonly backend: AsyncBackend,
    @Inject(SCORING_TRANSPORT) private readonly transport: ScoringTransport,
    @Inject(ApiEnv) private readonly env: ApiEnv,
    @Inject(WebhookAllowList) private readonly allowList: WebhookAllowList,
  ) {}

  async accept(
    request: ScoreRequest,
    entry: CatalogEntry,
    res: FastifyReply,
    route: AsyncRoute,
  ): Promise<AsyncAcceptedBody> {
    const callbackUrl = await this.callback(res.request.headers['callback-url'], route.callbackUrl);
    if (entry.liveWorkers === 0) {
      throw ScoringError.unavailable(`model '${request.model}' is not ready: no worker is serving it`);
    }
    const timeoutMs = effectiveTimeout(request.timeoutMs, this.env.ASYNC_DEFAULT_TIMEOUT_MS);
    const given = request.priority !== undefined && request.priority !== null && request.priority !== '';
    const priority = given ? parsePriority(request.priority) : this.env.ASYNC_DEFAULT_PRIORITY || undefined;
    assertQueueRoom(this.transport, request.queue ?? request.model, entry);
    const acceptedAt = Date.now();
    const id = randomUUID();
    const ttlS = this.env.ASYNC_RESULT_TTL_S;
    const job: ScoringJob = {
      id,
      requestId: request.requestId,
      model: request.model,
      queue: request.queue,
      endpoint: request.endpoint,
      deployment: request.deployment,
      version: request.version,
      kind: request.kind,
      inputs: request.inputs,
      payload: request.payload,
      parameters: request.parameters,
      priority,
      replyTo: this.backend.replyTo,
      deadline: acceptedAt + timeoutMs,
      acceptedAt,
      async: { ttlS, notify: callbackUrl !== undefined },
    };
    const record: AsyncJobRecord = {
      id,
      model: request.model,
      version: request.version,
      queue: job.queue,
      protocol: route.protocol,
      requestId: request.requestId,
      createdAt: acceptedAt,
      deadline: job.deadline,
      ttlS,
      callbackUrl,
    };
    if (request.observation) jobObservations.set(job, request.observation);
    await this.backend.submit(job, record);
    const location = `/v1/jobs/${id}`;
    acceptAsync(res, location);
    return { id, status: 'queued', location };
  }

  /** 404 for an unknown id, or one whose result has expired (ASYNC_RESULT_TTL_S). */
  async status(id: string): Promise<JobStatusBody> {
    const found = UUID.test(id) ? await this.backend.read(id) : undefined;
    if (!found) throw ScoringError.notFound(`job '${id}' not found (unknown, or its result has expired)`);
    return statusBody(found.job, found.running);
  }

  private async callback(header: string | string[] | undefined, param: unknown): Promise<string | undefined> {
    const fromHeader = Array.isArray(header) ? header[0] : header;
    if (fromHeader !== undefined && param !== undefined && fromHeader !== param) {
      throw ScoringError.badRequest('Callback-Url header and parameters.callback_url differ: send one');
    }
    const raw = fromHeader ?? param;
    if (raw === undefined || raw === '') return undefined;
    return (await this.allowList.check(raw)).url.href;
  }
}
