import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import type { ScoringJob, ScoringReply } from '../../../contracts/src/index.js';
import type { CaptureConfig, JobOutcome } from '../../../runtime/src/index.js';
import { deploymentOf } from '../metrics/labels.js';
import { RotatingJsonlWriter } from './rotating-writer.js';

/**
 * Payload capture of one model (model data collection): a sample of jobs, with their inputs
 * and outputs, appended as JSON lines to rotating files. What is written is built from the job
 * and the reply only — the job carries no headers or keys — and images are reduced to a
 * sha256 and a byte length.
 */
export class PayloadCapture {
  private readonly writer: RotatingJsonlWriter;

  constructor(
    model: string,
    readonly config: CaptureConfig,
    private readonly random: () => number = Math.random,
  ) {
    this.writer = new RotatingJsonlWriter({
      dir: resolve(config.dir ?? `./capture/${model}`),
      prefix: model,
      maxFileBytes: config.max_file_bytes,
      maxFiles: config.max_files,
    });
  }

  /** Lines written and dropped (disk slower than requests, or failing). */
  get counts(): { written: number; dropped: number } {
    return { written: this.writer.written, dropped: this.writer.dropped };
  }

  /** Captures the job with probability `sample_rate`. Never throws, never waits. */
  offer(job: ScoringJob, reply: ScoringReply, outcome: JobOutcome): void {
    if (!this.config.enabled || this.random() >= this.config.sample_rate) return;
    try {
      this.writer.write(JSON.stringify(captureRecord(job, reply, outcome)));
    } catch {
      // An unserializable payload is skipped, never a failed request.
    }
  }

  close(): Promise<void> {
    return this.writer.close();
  }
}

/** The line written for one job. */
export function captureRecord(job: ScoringJob, reply: ScoringReply, outcome: JobOutcome): Record<string, unknown> {
  const record: Record<string, unknown> = {
    ts: new Date().toISOString(),
    model: job.model,
    version: reply.ok ? reply.version : (job.version ?? null),
    deployment: deploymentOf(job),
    endpoint: job.endpoint ?? null,
    request_id: job.requestId ?? null,
    job_id: job.id,
    kind: job.kind,
    outcome,
  };
  if (job.kind === 'tensors') record.inputs = job.inputs ?? [];
  else record.payload = summarizePayload(job.payload);
  const options = pick(job.parameters, ['outputs', 'top_k']);
  if (options) record.parameters = options;
  if (reply.ok) {
    if (reply.outputs) record.outputs = reply.outputs;
    if (reply.result !== undefined) record.result = reply.result;
    record.timings = reply.timings;
  } else {
    record.status = reply.status;
    record.error = reply.error;
  }
  return record;
}

/** Texts as they are; images as `{sha256, bytes}`; anything else as its top-level keys. */
export function summarizePayload(payload: unknown): unknown {
  if (payload === null || typeof payload !== 'object') return null;
  const p = payload as { texts?: unknown; images?: unknown };
  if (Array.isArray(p.texts)) return { texts: p.texts.map(String) };
  if (Array.isArray(p.images)) return { images: p.images.map(imageDigest) };
  return { keys: Object.keys(payload) };
}

function imageDigest(image: unknown): { sha256: string; bytes: number } | null {
  const bytes =
    typeof image === 'string' ? Buffer.from(image, 'base64') : image instanceof Uint8Array ? image : undefined;
  if (!bytes) return null;
  return { sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.length };
}

function pick(source: Record<string, unknown> | undefined, keys: string[]): Record<string, unknown> | undefined {
  if (!source) return undefined;
  const out = Object.fromEntries(keys.filter((k) => source[k] !== undefined).map((k) => [k, source[k]]));
  return Object.keys(out).length > 0 ? out : undefined;
}
