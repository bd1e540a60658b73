import { ConfigError } from '../repository/config-error.js';
import { validateModelConfig } from '../repository/model-config-loader.js';
import type { ResolvedModel } from '../repository/model-repository.js';
import type { DeploymentSettings, VersionRecord } from './management-records.js';

/**
 * What a worker serves for a deployment: the registered version's artifact with the version's
 * model config, overridden by the deployment's own batching, queue and device settings.
 */
export async function resolveDeployment(record: VersionRecord, settings: DeploymentSettings): Promise<ResolvedModel> {
  const raw = structuredClone(record.config) as Record<string, Record<string, unknown> | unknown>;
  const section = (key: string): Record<string, unknown> => {
    const current = raw[key];
    const value = current && typeof current === 'object' ? (current as Record<string, unknown>) : {};
    raw[key] = value;
    return value;
  };
  if (settings.max_batch_size !== undefined) raw.max_batch_size = settings.max_batch_size;
  if (settings.max_queue_delay_ms !== undefined)
    section('dynamic_batching').max_queue_delay_ms = settings.max_queue_delay_ms;
  if (settings.max_queue_size !== undefined) section('queue_policy').max_queue_size = settings.max_queue_size;
  if (settings.default_timeout_ms !== undefined)
    section('queue_policy').default_timeout_ms = settings.default_timeout_ms;
  if (settings.device !== undefined) section('instance').device = settings.device;
  if (settings.intra_op_threads !== undefined) section('instance').intra_op_threads = settings.intra_op_threads;
  if (settings.instance_count !== undefined) section('instance').count = settings.instance_count;
  delete raw.version_policy;
  delete raw.name;
  const label = `model '${record.model}' version ${record.version} (registry)`;
  const config = await validateModelConfig(raw, label, record.model).catch((err: Error) => {
    throw new ConfigError(`deployment settings do not fit ${label}: ${err.message}`);
  });
  return {
    name: record.model,
    dir: record.dir,
    config,
    versions: [{ version: record.version, path: record.artifact }],
  };
}
