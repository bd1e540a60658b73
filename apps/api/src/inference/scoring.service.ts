import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { ScoringError, type ScoringJob, type ScoringSuccess } from '#contracts';
import { ApiEnv, SCORING_TRANSPORT, type CallerGone, type CatalogEntry, type ScoringTransport } from '#runtime';
import { jobObservations, type RequestObservation } from '../observability/request-scope.js';

/** A scoring request as the controllers hand it over, already validated. */
export interface ScoreRequest {
  model: string;
  version?: string;
  kind: ScoringJob['kind'];
  inputs?: ScoringJob['inputs'];
  payload?: unknown;
  parameters?: ScoringJob['parameters'];
  requestId?: string;
  /** Timeout the caller asked for (ms); may only lower the model's default. */
  timeoutMs?: unknown;
  /** Queue priority the caller asked for: 0 (default) first, larger later. */
  priority?: unknown;
  /** The deployment queue, when the request came through an endpoint; else the model's queue. */
  queue?: string;
  endpoint?: string;
  deployment?: string;
  /** A mirrored copy: computed and measured, answer discarded. */
  mirror?: boolean;
  /** The HTTP request's observation: its job and reply label the request's metrics and spans. */
  observation?: RequestObservation;
}

/**
 * Turns a validated request into a job with a deadline, hands it to the transport, and turns
 * the reply into a result or a ScoringError. Both protocols (OIP, friendly) go through here.
 */
@Injectable()
export class ScoringService {
  constructor(
    @Inject(SCORING_TRANSPORT) private readonly transport: ScoringTransport,
    @Inject(ApiEnv) private readonly env: ApiEnv,
  ) {}

  /** The model's catalog entry; 404 when unknown (or the version is), 503 when nobody serves it. */
  async model(name: string, version?: string): Promise<CatalogEntry> {
    const entry = (await this.transport.catalog()).get(name);
    if (!entry) throw ScoringError.notFound(`model '${name}' not found`);
    if (version !== undefined && !entry.metadata.versions.includes(version)) {
      throw ScoringError.notFound(
        `model '${name}' has no version '${version}' (versions: ${entry.metadata.versions.join(', ')})`,
      );
    }
    return entry;
  }

  /** A deployment queue's catalog entry; 503 while no worker has announced it yet. */
  async deployment(queue: string, label: string): Promise<CatalogEntry> {
    const entry = (await this.transport.catalog()).get(queue);
    if (!entry) throw ScoringError.unavailable(`deployment '${label}' is not ready: no worker has started for it`);
    return entry;
  }

  /** Catalog entries by queue name (models and deployments), for status listings. */
  async catalog(): Promise<Map<string, CatalogEntry>> {
    return this.transport.catalog();
  }

  /** Estimated waiting jobs of a queue. */
  queueDepth(queue: string): number {
    return this.transport.queueDepth(queue);
  }

  async models(): Promise<CatalogEntry[]> {
    return [...(await this.transport.catalog()).values()];
  }

  isHealthy(): boolean {
    return this.transport.isHealthy();
  }

  /**
   * Admits, enqueues and waits. Refused at once with 429 (never enqueued) when the model's
   * queue is over its bound or this instance has too many requests in flight.
   */
  async score(request: ScoreRequest, entry: CatalogEntry, gone?: CallerGone): Promise<ScoringSuccess> {
    if (entry.liveWorkers === 0) {
      throw ScoringError.unavailable(`model '${request.model}' is not ready: no worker is serving it`);
    }
    const timeoutMs = effectiveTimeout(request.timeoutMs, entry.metadata.defaultTimeoutMs);
    const priority = parsePriority(request.priority);
    this.admit(request.queue ?? request.model, entry);
    const acceptedAt = Date.now();
    const job: ScoringJob = {
      id: randomUUID(),
      requestId: request.requestId,
      model: request.model,
      version: request.version,
      kind: request.kind,
      inputs: request.inputs,
      payload: request.payload,
      parameters: request.parameters,
      priority,
      queue: request.queue,
      endpoint: request.endpoint,
      deployment: request.deployment,
      mirror: request.mirror,
      replyTo: this.transport.replyTo,
      deadline: acceptedAt + timeoutMs,
      acceptedAt,
    };
    if (request.observation) jobObservations.set(job, request.observation);
    const reply = await this.transport.submit(job, gone);
    if (!reply.ok) throw new ScoringError(reply.status, reply.error);
    reply.timings.total = Date.now() - acceptedAt;
    return reply;
  }

  private admit(queue: string, entry: CatalogEntry): void {
    if (this.transport.inFlight >= this.env.MAX_INFLIGHT_REQUESTS) {
      throw ScoringError.tooMany(
        `this API instance is at its limit of ${this.env.MAX_INFLIGHT_REQUESTS} requests in flight; retry later`,
      );
    }
    assertQueueRoom(this.transport, queue, entry);
  }
}

/** Refuses (429) a request for a queue that holds its bound of waiting requests already. */
export function assertQueueRoom(transport: ScoringTransport, queue: string, entry: CatalogEntry): void {
  const bound = queueBound(entry);
  const depth = transport.queueDepth(queue);
  if (depth >= bound) {
    throw ScoringError.tooMany(
      `model '${entry.metadata.name}' is overloaded: ${depth} requests waiting (limit ${bound}); retry later`,
    );
  }
}

/**
 * The waiting-job bound: the model's `queue_policy.max_queue_size`, or by default four rounds
 * of what its live workers hold at once, so the bound grows as workers are added.
 */
export function queueBound(entry: CatalogEntry): number {
  if (entry.metadata.maxQueueSize > 0) return entry.metadata.maxQueueSize;
  return Math.max(64, 4 * entry.capacity);
}

export function effectiveTimeout(requested: unknown, modelDefault: number): number {
  if (requested === undefined || requested === null || requested === '') return modelDefault;
  const ms = Number(requested);
  if (!Number.isFinite(ms) || ms <= 0) {
    throw ScoringError.badRequest(`timeout_ms: must be a positive number of milliseconds`);
  }
  return Math.min(ms, modelDefault);
}

/** BullMQ's priority range: 0 (default, first) to 2^21. */
const MAX_PRIORITY = 2_097_152;

export function parsePriority(requested: unknown): number | undefined {
  if (requested === undefined || requested === null || requested === '') return undefined;
  const p = Number(requested);
  if (!Number.isInteger(p) || p < 0 || p > MAX_PRIORITY) {
    throw ScoringError.badRequest(`priority: must be an integer from 0 (first) to ${MAX_PRIORITY} (last)`);
  }
  return p === 0 ? undefined : p;
}
