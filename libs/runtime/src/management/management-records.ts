import type { TensorSpec } from '../../../contracts/src/index.js';

/** Names of endpoints and deployments: lower-case, DNS-label-like, so they fit queue and k8s names. */
export const RESOURCE_NAME = /^[a-z0-9][a-z0-9-]{0,31}$/;

/** One registered model version. Shared state in Redis; the artifact lives in the model store. */
export interface VersionRecord {
  model: string;
  version: string;
  /** Absolute path of the ONNX file in the model store (a volume shared with the workers). */
  artifact: string;
  /** Directory holding the files the handler config names (labels.json ...). */
  dir: string;
  sha256: string;
  size: number;
  platform: string;
  inputs: TensorSpec[];
  outputs: TensorSpec[];
  /** The model config (batching, handler ...) deployments of this version start from. */
  config: Record<string, unknown>;
  source: 'upload' | 'repository';
  description?: string;
  tags?: Record<string, string>;
  created_at: string;
}

/** Per-deployment settings that override the version's model config. */
export interface DeploymentSettings {
  max_batch_size?: number;
  max_queue_delay_ms?: number;
  max_queue_size?: number;
  default_timeout_ms?: number;
  device?: 'cpu' | 'cuda';
  intra_op_threads?: number;
  /** Sessions per worker, each running a batch at once (`instance.count`). */
  instance_count?: number;
}

/** A model version served by a worker pool on its own queue. */
export interface DeploymentRecord {
  name: string;
  model: string;
  version: string;
  settings: DeploymentSettings;
  /** Increments on every change; workers switch when it moves. */
  revision: number;
  updated_at: string;
}

/** A stable name with keys and routing in front of one or more deployments. */
export interface EndpointRecord {
  name: string;
  description?: string;
  /** sha256 hashes of the primary and secondary keys; the keys themselves are never stored. */
  keys: { primary: string; secondary: string };
  deployments: Record<string, DeploymentRecord>;
  /** Deployment → weight; weights sum to 100, or the map is empty (no traffic). */
  traffic: Record<string, number>;
  /** Share of live traffic copied to one deployment, whose answers are discarded. */
  mirror?: { deployment: string; percent: number };
  revision: number;
  created_at: string;
  updated_at: string;
}

/** The BullMQ queue of one deployment. `_` never starts a model name, so no collision. */
export function deploymentQueue(endpoint: string, deployment: string): string {
  return `_d.${endpoint}.${deployment}`;
}
