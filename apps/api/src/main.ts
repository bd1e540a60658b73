import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Logger as NestPinoLogger, PinoLogger } from 'nestjs-pino';
import { ApiEnv, ConfigError, parseEnv } from '#runtime';
import { installAccessLog, Tracing } from '#telemetry';
import { AppModule } from './app.module.js';
import { authEnabled, checkAuthSettings } from './auth/auth-settings.js';
import multipart from '@fastify/multipart';
import { configureBodyParsing } from './http/body-parsing.js';
import { ApiTelemetry } from './observability/api-telemetry.js';
import { installHttpTelemetry } from './observability/http-telemetry.js';
import { checkMetricsPort, startMetricsPort } from './observability/metrics-port.js';
import { withObservability } from './observability/observability.module.js';
import { mountQueueBoard } from './observability/queue-board.js';
import { createTransport } from './transport.factory.js';
import { setupOpenApi } from './docs/openapi.js';

/** API process: `npm start` (embedded) or `npm run start:api` with REDIS_URL (distributed). */
async function bootstrap(): Promise<void> {
  Logger.attachBuffer(); // logs before the app exists go out through pino once it does
  const env = parseEnv(ApiEnv);
  checkAuthSettings(env);
  checkMetricsPort(env);
  const tracing = await Tracing.start('switchyard-api');
  const transport = await createTransport(env);
  const telemetry = new ApiTelemetry(transport, tracing);
  const adapter = new FastifyAdapter({ bodyLimit: env.BODY_LIMIT_BYTES });
  configureBodyParsing(adapter.getInstance(), env.BODY_LIMIT_BYTES);
  installHttpTelemetry(adapter.getInstance(), telemetry.metrics, tracing);
  installAccessLog(adapter.getInstance(), () => PinoLogger.root);
  const root = withObservability(AppModule.forRoot(env, transport), env, telemetry);
  const app = await NestFactory.create<NestFastifyApplication>(root, adapter, {
    bufferLogs: true,
    // Body parsers are ours (configureBodyParsing): JSON behind a depth check, images raw.
    bodyParser: false,
  });
  app.useLogger(app.get(NestPinoLogger));
  await app.register(multipart, { limits: { fileSize: env.BODY_LIMIT_BYTES, files: 4096, fields: 4096 } });
  await mountQueueBoard(app, env, transport);
  setupOpenApi(app);
  // Exit 0 once shutdown completes (Nest's default re-raises the signal: exit status 143).
  app.enableShutdownHooks([], { useProcessExit: true });
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onClose', async () => transport.close());
  await startMetricsPort(env, telemetry, app.getHttpAdapter().getInstance());
  await app.listen(env.PORT, env.HOST);
  new Logger('API').log(`listening on http://${env.HOST}:${env.PORT}`);
  if (!authEnabled(env)) {
    new Logger('API').warn(
      '!!! AUTH is off: scoring and management need no keys. Use this for local development only.',
    );
  }
}

bootstrap().catch((err: unknown) => {
  const message = err instanceof ConfigError ? err.message : ((err as Error).stack ?? String(err));
  Logger.flush();
  new Logger('API').error(`refusing to start: ${message}`);
  process.exit(1);
});
