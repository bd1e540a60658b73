import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import {
  defaultConcurrency,
  EmbeddedTransport,
  evictionPolicyWarning,
  loadModelServer,
  ModelRepository,
  RedisTransport,
  type ApiEnv,
  type ModelServer,
  type ScoringTransport,
} from '#runtime';

const logger = new Logger('Transport');

/**
 * With REDIS_URL: the distributed topology (workers elsewhere). Without: the embedded mode,
 * one in-process model server per model of the repository.
 */
export async function createTransport(env: ApiEnv): Promise<ScoringTransport> {
  if (env.REDIS_URL) {
    const instanceId = `${process.env.HOSTNAME ?? 'api'}-${process.pid}-${randomUUID().slice(0, 8)}`;
    const transport = await RedisTransport.connect({
      url: env.REDIS_URL,
      prefix: env.REDIS_PREFIX,
      instanceId,
      liveWindowMs: env.WORKER_LIVENESS_MS,
    });
    logger.log(`distributed mode: Redis ${redact(env.REDIS_URL)}, replies on ${transport.replyTo}`);
    const warning = await evictionPolicyWarning(transport.redis);
    if (warning) logger.warn(`!!! ${warning}`);
    return transport;
  }
  const repository = new ModelRepository(env.MODEL_REPOSITORY);
  const names = env.EMBEDDED_MODELS ? env.EMBEDDED_MODELS.split(',').filter(Boolean) : await repository.listModels();
  const servers = new Map<string, ModelServer>();
  for (const name of names) {
    const server = await loadModelServer(repository, name);
    servers.set(name, server);
    logger.log(`embedded: model '${name}' versions [${server.model.metadata.versions.join(', ')}] loaded and warm`);
  }
  logger.log(
    `embedded mode: ${servers.size} model(s) from ${repository.root}, no Redis (set REDIS_URL for the distributed topology)`,
  );
  return new EmbeddedTransport(servers, (s) => defaultConcurrency(s.model.config));
}

function redact(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@').replace(/([?&]password=)[^&]*/, '$1***');
}
