import { Logger } from '@nestjs/common';
import type { FastifyInstance } from 'fastify';
import { ApiEnv, ConfigError } from '#runtime';
import { MetricsServer } from '#telemetry';
import type { ApiTelemetry } from './api-telemetry.js';

/** Refuses METRICS_PORT equal to PORT: the two servers cannot share a port. */
export function checkMetricsPort(env: ApiEnv): void {
  if (env.METRICS_PORT !== undefined && env.METRICS_PORT === env.PORT) {
    throw new ConfigError(
      `invalid environment:\n  - METRICS_PORT must differ from PORT (both are ${env.PORT}); unset it to serve /metrics on PORT`,
    );
  }
}

/**
 * With METRICS_PORT set, serves `/metrics` there and closes it with the app. Call before the
 * app listens: Fastify takes no onClose hook once it is ready.
 */
export async function startMetricsPort(env: ApiEnv, telemetry: ApiTelemetry, fastify: FastifyInstance): Promise<void> {
  if (env.METRICS_PORT === undefined) return;
  const server = new MetricsServer(telemetry.registry);
  const port = await server.listen(env.METRICS_PORT, env.HOST);
  fastify.addHook('onClose', async () => server.close());
  new Logger('API').log(`metrics on http://${env.HOST}:${port}/metrics`);
}
