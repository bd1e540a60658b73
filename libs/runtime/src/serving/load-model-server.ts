import { createFriendlyHandler } from '../handlers/handler-registry.js';
import type { ModelRepository, ResolvedModel } from '../repository/model-repository.js';
import { LoadedModel } from '../session/loaded-model.js';
import { ModelServer } from './model-server.js';

export interface LoadOptions {
  /** Serve only this version (`MODEL_VERSION`). */
  version?: string;
  /** Override the config's device (`DEVICE`). */
  device?: 'cpu' | 'cuda';
}

/**
 * Resolves a model in the repository, loads its sessions, builds its handler and runs a
 * warm-up inference: what a worker does before it takes its first job.
 */
export async function loadModelServer(
  repository: ModelRepository,
  name: string,
  options: LoadOptions = {},
): Promise<ModelServer> {
  return serveResolved(await repository.resolve(name, options.version), options.device);
}

/** Loads, wraps and warms an already resolved model (from the repository or the registry). */
export async function serveResolved(resolved: ResolvedModel, device?: 'cpu' | 'cuda'): Promise<ModelServer> {
  if (device) resolved.config.instance.device = device;
  const model = await LoadedModel.load(resolved);
  try {
    const handler = await createFriendlyHandler(model);
    await model.warmUp();
    return new ModelServer(model, handler);
  } catch (err) {
    await model.release();
    throw err;
  }
}
