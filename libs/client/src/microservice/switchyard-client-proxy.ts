import { randomUUID } from 'node:crypto';
import { ClientProxy, type ReadPacket, type WritePacket } from '@nestjs/microservices';
import type { AsyncJobRecord, ScoringJob, ScoringReply } from '../../../contracts/src/index.js';
import { RedisAsyncStore, RedisKeys, RedisTransport } from '../../../runtime/src/index.js';
import { SwitchyardRpcError } from './rpc-error.js';
import { modelOfPattern, prepareJob, type ScorePayload, type ScoreResult } from './rpc-payload.js';

/** Options of `ClientsModule.register([{ name, customClass: SwitchyardClientProxy, options }])`. */
export interface SwitchyardClientOptions {
  /** Redis of the Switchyard deployment (`redis://host:6379`). */
  url: string;
  /** REDIS_PREFIX of the deployment. @defaultValue 'sy' */
  prefix?: string;
  /** Names this client's reply channel (`<prefix>:_reply:<instanceId>`). @defaultValue 'client-' + a random id */
  instanceId?: string;
  /** Queue priority of `emit` jobs (0 is first). @defaultValue 10 */
  eventPriority?: number;
  /** Deadline of `emit` jobs (ms). @defaultValue 3600000 */
  eventTimeoutMs?: number;
  /** Seconds the outcome of an `emit` job stays readable at `GET /v1/jobs/{id}`. @defaultValue 3600 */
  eventResultTtlS?: number;
}

/** What `emit` resolves to: the id of the stored async job (`GET /v1/jobs/{id}`). */
export interface EmittedJob {
  id: string;
}

/**
 * A NestJS ClientProxy over Switchyard's own queues: `send('score.<model>', payload)` enqueues
 * a job on the model's BullMQ queue and emits the reply, which the worker publishes on this
 * client's own reply channel (one subscription per client, not per request); unsubscribing
 * cancels the job. `emit('score.<model>', payload)` enqueues an async job at low priority and
 * resolves to its id once enqueued; its outcome is stored like that of an HTTP async job.
 * Payloads are validated against the model signatures workers announce, as the API does.
 */
export class SwitchyardClientProxy extends ClientProxy {
  private transport: RedisTransport | undefined;
  private connecting: Promise<RedisTransport> | undefined;
  private store: RedisAsyncStore | undefined;

  constructor(private readonly options: SwitchyardClientOptions) {
    super();
    this.initializeSerializer({});
    this.initializeDeserializer({});
  }

  async connect(): Promise<RedisTransport> {
    this.connecting ??= RedisTransport.connect({
      url: this.options.url,
      prefix: this.prefix,
      instanceId: this.options.instanceId ?? `client-${randomUUID()}`,
    }).then(
      (transport) => {
        this.transport = transport;
        this.store = new RedisAsyncStore(transport.redis, new RedisKeys(this.prefix));
        this._status$.next('connected');
        return transport;
      },
      (err: unknown) => {
        this.connecting = undefined;
        throw SwitchyardRpcError.from(err);
      },
    );
    return this.connecting;
  }

  /** Waits (bounded by their deadlines) for replies in flight, then disconnects. */
  async close(): Promise<void> {
    const transport = this.transport;
    this.transport = undefined;
    this.connecting = undefined;
    await transport?.close();
    this._status$.next('disconnected');
  }

  unwrap<T>(): T {
    if (!this.transport) throw new Error('not connected: call connect() first');
    return this.transport as T;
  }

  protected publish(packet: ReadPacket<ScorePayload>, callback: (packet: WritePacket) => void): () => void {
    const controller = new AbortController();
    this.score(packet, controller.signal).then(
      (response) => callback({ response, isDisposed: true }),
      (err: unknown) => callback({ err: SwitchyardRpcError.from(err) }),
    );
    return () => controller.abort();
  }

  protected async dispatchEvent<T = EmittedJob>(packet: ReadPacket<ScorePayload>): Promise<T> {
    try {
      const { transport, job } = await this.buildJob(packet, true);
      const record: AsyncJobRecord = {
        id: job.id,
        model: job.model,
        version: job.version,
        protocol: 'rpc',
        createdAt: job.acceptedAt,
        deadline: job.deadline,
        ttlS: job.async!.ttlS,
      };
      await this.store!.create(record);
      await transport.enqueue(job);
      return { id: job.id } as T;
    } catch (err) {
      throw SwitchyardRpcError.from(err);
    }
  }

  private get prefix(): string {
    return this.options.prefix ?? 'sy';
  }

  private async score(packet: ReadPacket<ScorePayload>, signal: AbortSignal): Promise<ScoreResult> {
    const { transport, job } = await this.buildJob(packet, false);
    const reply: ScoringReply = await transport.submit(job, signal);
    if (!reply.ok) throw new SwitchyardRpcError(reply.status, reply.error);
    return {
      model: reply.model,
      version: reply.version,
      ...(job.kind === 'tensors' ? { outputs: reply.outputs ?? [] } : { predictions: reply.result as unknown[] }),
      timings: { ...reply.timings, total: Date.now() - job.acceptedAt },
    };
  }

  private async buildJob(
    packet: ReadPacket<ScorePayload>,
    event: boolean,
  ): Promise<{ transport: RedisTransport; job: ScoringJob }> {
    const model = modelOfPattern(packet.pattern);
    const transport = await this.connect();
    const entry = (await transport.catalog()).get(model);
    const data = packet.data ?? {};
    const prepared = prepareJob(model, data, entry);
    if (entry!.liveWorkers === 0)
      throw new SwitchyardRpcError(503, `model '${model}' is not ready: no worker is serving it`);
    const bound = entry!.metadata.maxQueueSize > 0 ? entry!.metadata.maxQueueSize : Math.max(64, 4 * entry!.capacity);
    if (transport.queueDepth(model) >= bound) throw new SwitchyardRpcError(429, `model '${model}' is overloaded`);
    const fallback = event ? (this.options.eventTimeoutMs ?? 3_600_000) : entry!.metadata.defaultTimeoutMs;
    const timeoutMs = positive(data.parameters?.timeout_ms, 'timeout_ms') ?? fallback;
    const priority = data.parameters?.priority ?? (event ? (this.options.eventPriority ?? 10) : 0);
    if (!Number.isInteger(priority) || priority < 0 || priority > 2_097_152) {
      throw new SwitchyardRpcError(400, 'priority: must be an integer from 0 (first) to 2097152 (last)');
    }
    const acceptedAt = Date.now();
    const job: ScoringJob = {
      id: randomUUID(),
      ...prepared,
      priority: priority || undefined,
      replyTo: event ? new RedisKeys(this.prefix).asyncReplyTo : transport.replyTo,
      deadline: acceptedAt + (event ? timeoutMs : Math.min(timeoutMs, fallback)),
      acceptedAt,
      ...(event ? { async: { ttlS: this.options.eventResultTtlS ?? 3600 } } : {}),
    };
    return { transport, job };
  }
}

function positive(value: unknown, label: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new SwitchyardRpcError(400, `${label}: must be a positive number of milliseconds`);
  }
  return value;
}
