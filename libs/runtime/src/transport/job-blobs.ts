import type { ChainableCommander } from 'ioredis';
import type { ScoringJob, TensorData } from '../../../contracts/src/index.js';
import type { RedisKeys } from './redis-keys.js';

/**
 * Byte payloads (image files) of this size and larger travel beside their job, as binary
 * Redis strings under their own keys, instead of inside the job as base64 text: the job, its
 * envelope and what the worker sends back to release it stay small, and no one encodes or
 * decodes base64. Smaller ones are cheaper inline than a key each.
 */
export const BLOB_MIN_BYTES = 8 * 1024;

/** How long a blob outlives its job's deadline (clock skew between hosts). */
const BLOB_GRACE_MS = 5_000;

/** What stands in a job's payload for the `$blob`-th blob stored beside it. */
interface BlobRef {
  $blob: number;
}

function isBlobRef(value: unknown): value is BlobRef {
  return typeof value === 'object' && value !== null && typeof (value as BlobRef).$blob === 'number';
}

/**
 * The job as it goes into Redis: every byte array in its payload, and the bytes of binary
 * input tensors, replaced by a blob reference (large) or base64 text (small), and the blobs
 * to store beside it. Jobs without byte arrays come back as they are.
 */
export function detachBlobs(job: ScoringJob): { job: ScoringJob; blobs: Uint8Array[] } {
  const blobs: Uint8Array[] = [];
  const detach = (bytes: Uint8Array): string | BlobRef => {
    if (bytes.byteLength < BLOB_MIN_BYTES)
      return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
    blobs.push(bytes);
    return { $blob: blobs.length - 1 };
  };
  const walk = (value: unknown): unknown => {
    if (value instanceof Uint8Array) return detach(value);
    if (Array.isArray(value)) return value.some(needsWalk) ? value.map(walk) : value;
    if (isPlainObject(value) && Object.values(value).some(needsWalk))
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v)]));
    return value;
  };
  const binaryInputs = job.inputs?.some((t) => t.data instanceof Uint8Array) ?? false;
  if (!binaryInputs && !needsWalk(job.payload)) return { job, blobs };
  const payload = walk(job.payload);
  // Binary tensor data (binary-data.ts): validation reads base64 text and blobs alike.
  const inputs = binaryInputs
    ? job.inputs!.map((t) =>
        t.data instanceof Uint8Array ? { ...t, data: detach(t.data) as unknown as TensorData } : t,
      )
    : job.inputs;
  return { job: { ...job, payload, inputs, blobs: blobs.length > 0 ? blobs.length : undefined }, blobs };
}

/** Adds the writes that store a job's blobs, each expiring shortly after the job's deadline. */
export function queueBlobWrites(
  pipeline: ChainableCommander,
  keys: RedisKeys,
  job: ScoringJob,
  blobs: Uint8Array[],
  now = Date.now(),
): void {
  const ttl = Math.max(1, job.deadline - now) + BLOB_GRACE_MS;
  blobs.forEach((blob, i) =>
    pipeline.set(keys.jobBlob(job.id, i), Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength), 'PX', ttl),
  );
}

/** Keys of the blobs a job (as read from Redis) has stored beside it. */
export function blobKeys(keys: RedisKeys, job: ScoringJob): string[] {
  return Array.from({ length: job.blobs ?? 0 }, (_, i) => keys.jobBlob(job.id, i));
}

/**
 * The job with its blob references replaced by the blobs read back (in `blobKeys` order).
 * Throws when one is missing: it expired, or Redis lost it.
 */
export function attachBlobs(job: ScoringJob, blobs: (Buffer | null)[]): ScoringJob {
  const walk = (value: unknown): unknown => {
    if (isBlobRef(value)) {
      const blob = blobs[value.$blob];
      if (!blob) throw new Error(`blob ${value.$blob} of request ${job.id} is gone from Redis`);
      return blob;
    }
    if (Array.isArray(value)) return value.map(walk);
    if (isPlainObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v)]));
    return value;
  };
  const inputs = job.inputs?.map((t) => (isBlobRef(t.data) ? { ...t, data: walk(t.data) as Buffer } : t));
  return { ...job, payload: walk(job.payload), inputs, blobs: undefined };
}

function needsWalk(value: unknown): boolean {
  if (value instanceof Uint8Array) return true;
  if (Array.isArray(value)) return value.some(needsWalk);
  return isPlainObject(value) && Object.values(value).some(needsWalk);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype;
}
