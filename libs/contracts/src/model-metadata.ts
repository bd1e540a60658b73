import type { TensorSpec } from './tensor.js';

/** What a worker announces about the model it serves; the API validates requests against it. */
export interface ModelMetadata {
  name: string;
  /** Versions this deployment serves, newest first. */
  versions: string[];
  platform: string;
  /** Full tensor shapes as the OIP metadata route shows them (batch dim included as -1). */
  inputs: TensorSpec[];
  outputs: TensorSpec[];
  /** 0 means the model does not batch: request shapes are the model's shapes. */
  maxBatchSize: number;
  /** Default request timeout; a request may lower it, never raise it. */
  defaultTimeoutMs: number;
  /** Waiting-job bound before requests are refused. */
  maxQueueSize: number;
  /** Handler kind that pre/post-processes friendly requests. */
  handler: string;
}
