import { removeRepo, tempRepo } from './model-repo.js';
import { startApi, startWorker, type ServiceProcess } from './processes.js';
import { REDIS_URL, deletePrefix, freshPrefix } from './redis.js';

/** A worker serving the sum fixture with its config patched, and an API in front of it. */
export interface PatchedSum {
  api: ServiceProcess;
  worker: ServiceProcess;
  /** Stops both (if still running), deletes the Redis prefix and the temporary repository. */
  stop(): Promise<void>;
}

/** Starts it on a fresh Redis prefix; resolves once the API sees the model ready. */
export async function startPatchedSum(tag: string, patch: Record<string, unknown>): Promise<PatchedSum> {
  const prefix = freshPrefix(tag);
  const repo = await tempRepo([{ name: 'sum', patch }]);
  const env = { REDIS_URL, REDIS_PREFIX: prefix, MODEL_REPOSITORY: repo };
  const worker = await startWorker({ ...env, MODEL: 'sum', LOG_LEVEL: 'info' });
  const api = await startApi(env);
  await api.waitReady('/v2/models/sum/ready');
  return {
    api,
    worker,
    stop: async () => {
      await Promise.all([api.stop(), worker.stop()]);
      await deletePrefix(prefix);
      await removeRepo(repo);
    },
  };
}
