import { setTimeout as sleep } from 'node:timers/promises';
import {
  INFERENCE_HEADER_CONTENT_LENGTH,
  type AsyncAcceptedBody,
  type JobStatusBody,
} from '../../../contracts/src/index.js';
import {
  decodeBinaryInfer,
  encodeBinaryInfer,
  type BinaryInferRequest,
  type BinaryInferResponse,
} from './binary-infer.js';
import { ClientTimeoutError, errorForStatus, SwitchyardError } from './errors.js';
import { parseRetryAfter, retryDelayMs } from './retry.js';
import type {
  FinishedJob,
  FriendlyInput,
  InferRequest,
  InferResponse,
  PredictResponse,
  ScoreAsyncOptions,
  ScoreOptions,
  SwitchyardHttpClientOptions,
  WaitOptions,
} from './types.js';

interface Call {
  method: 'GET' | 'POST';
  path: string;
  body?: unknown;
  /** A binary inference body (binary tensor data extension) instead of a JSON `body`. */
  binary?: { body: Buffer; jsonLength: number };
  headers?: Record<string, string>;
}

/**
 * Typed client of Switchyard's REST API for TypeScript callers (Node 20+, global fetch).
 * Retries 429 and 503 answers (refused before anything ran) honouring `Retry-After`, bounds
 * every request by `timeoutMs`, and throws SwitchyardError subclasses by status.
 */
export class SwitchyardHttpClient {
  private readonly baseUrl: string;
  private readonly fetchFn: typeof fetch;

  constructor(private readonly options: SwitchyardHttpClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.fetchFn = options.fetch ?? globalThis.fetch;
  }

  /** Friendly scoring (`POST /v1/models/{m}[/versions/{v}]:predict`). */
  score(model: string, input: FriendlyInput, opts: ScoreOptions = {}): Promise<PredictResponse> {
    return this.call<PredictResponse>({
      method: 'POST',
      path: predictPath(model, opts.version),
      body: friendlyBody(input, opts),
    });
  }

  /** The same, as an async job: `202` with the job's id and location. */
  async scoreAsync(
    model: string,
    input: FriendlyInput,
    opts: ScoreAsyncOptions = {},
  ): Promise<{ id: string; location: string }> {
    const body = friendlyBody(input, opts);
    if (opts.callbackUrl) body.parameters = { ...(body.parameters as object), callback_url: opts.callbackUrl };
    const accepted = await this.call<AsyncAcceptedBody>({
      method: 'POST',
      path: predictPath(model, opts.version),
      body,
      headers: { prefer: 'respond-async' },
    });
    return { id: accepted.id, location: accepted.location };
  }

  /** OIP inference (`POST /v2/models/{m}[/versions/{v}]/infer`). */
  infer(model: string, request: InferRequest, opts: { version?: string } = {}): Promise<InferResponse> {
    const path = `/v2/models/${encodeURIComponent(model)}${versionPath(opts.version)}/infer`;
    return this.call<InferResponse>({ method: 'POST', path, body: request });
  }

  /**
   * OIP inference with the binary tensor data extension: inputs go as raw bytes after the
   * JSON and outputs come back so, as typed arrays. For large tensors (images, embeddings)
   * this skips formatting and parsing every number as JSON text.
   */
  async inferBinary(
    model: string,
    request: BinaryInferRequest,
    opts: { version?: string } = {},
  ): Promise<BinaryInferResponse> {
    const path = `/v2/models/${encodeURIComponent(model)}${versionPath(opts.version)}/infer`;
    return this.call<BinaryInferResponse>({ method: 'POST', path, binary: encodeBinaryInfer(request) });
  }

  /** `GET /v1/jobs/{id}`; NotFoundError once the result has expired. */
  getJob(id: string): Promise<JobStatusBody> {
    return this.call<JobStatusBody>({ method: 'GET', path: `/v1/jobs/${encodeURIComponent(id)}` });
  }

  /** Polls until the job is succeeded, failed or expired; ClientTimeoutError after `timeoutMs`. */
  async waitForJob(id: string, opts: WaitOptions = {}): Promise<FinishedJob> {
    const pollMs = opts.pollMs ?? 500;
    const until = Date.now() + (opts.timeoutMs ?? 60_000);
    for (;;) {
      const job = await this.getJob(id);
      if (job.status === 'succeeded' || job.status === 'failed' || job.status === 'expired') return job as FinishedJob;
      if (Date.now() + pollMs > until) throw new ClientTimeoutError(0, `job ${id} still ${job.status} after waiting`);
      await sleep(pollMs);
    }
  }

  private async call<T>(call: Call): Promise<T> {
    const retries = this.options.retries ?? 2;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.once<T>(call);
      } catch (err) {
        const status = (err as SwitchyardError).status;
        if (!(err instanceof SwitchyardError) || (status !== 429 && status !== 503) || attempt >= retries) throw err;
        const base = this.options.retryBaseMs ?? 200;
        await sleep(retryDelayMs(attempt + 1, err.retryAfterS, base, this.options.maxRetryDelayMs ?? 10_000));
      }
    }
  }

  private async once<T>(call: Call): Promise<T> {
    const timeoutMs = this.options.timeoutMs ?? 30_000;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    const headers: Record<string, string> = { accept: 'application/json', ...call.headers };
    if (call.body !== undefined) headers['content-type'] = 'application/json';
    if (call.binary) {
      headers['content-type'] = 'application/octet-stream';
      headers[INFERENCE_HEADER_CONTENT_LENGTH] = String(call.binary.jsonLength);
    }
    if (this.options.apiKey) headers.authorization = `Bearer ${this.options.apiKey}`;
    try {
      const res = await this.fetchFn(this.baseUrl + call.path, {
        method: call.method,
        headers,
        body: call.binary?.body ?? (call.body === undefined ? undefined : JSON.stringify(call.body)),
        signal: controller.signal,
        redirect: 'error',
      });
      const jsonLength = res.headers.get(INFERENCE_HEADER_CONTENT_LENGTH);
      if (res.ok && jsonLength !== null) {
        return decodeBinaryInfer(Buffer.from(await res.arrayBuffer()), Number(jsonLength)) as T;
      }
      const text = await res.text();
      const parsed = parseJson(text);
      if (res.ok) return parsed as T;
      const message = (parsed as { error?: unknown } | undefined)?.error;
      throw errorForStatus(
        res.status,
        typeof message === 'string' ? message : `HTTP ${res.status}`,
        parseRetryAfter(res.headers.get('retry-after')),
      );
    } catch (err) {
      if (err instanceof SwitchyardError) throw err;
      if (controller.signal.aborted) {
        throw new ClientTimeoutError(0, `${call.method} ${call.path}: no answer within ${timeoutMs} ms`);
      }
      throw new SwitchyardError(0, `${call.method} ${call.path}: ${(err as Error).message}`);
    } finally {
      clearTimeout(timer);
    }
  }
}

function versionPath(version: string | undefined): string {
  return version === undefined ? '' : `/versions/${encodeURIComponent(version)}`;
}

function predictPath(model: string, version: string | undefined): string {
  return version === undefined
    ? `/v1/models/${encodeURIComponent(model)}:predict`
    : `/v1/models/${encodeURIComponent(model)}/versions/${encodeURIComponent(version)}:predict`;
}

function friendlyBody(input: FriendlyInput, opts: ScoreOptions): Record<string, unknown> {
  const parameters: Record<string, unknown> = {};
  if (opts.topK !== undefined) parameters.top_k = opts.topK;
  if (opts.deadlineMs !== undefined) parameters.timeout_ms = opts.deadlineMs;
  if (opts.priority !== undefined) parameters.priority = opts.priority;
  return Object.keys(parameters).length > 0 ? { ...input, parameters } : { ...input };
}

function parseJson(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return { error: text.slice(0, 500) };
  }
}
