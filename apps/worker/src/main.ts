import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Logger as PinoLogger } from 'nestjs-pino';
import { ConfigError, parseEnv, WorkerEnv } from '#runtime';
import { Tracing } from '#telemetry';
import { ModelWorkerService } from './model-worker.service.js';
import { WorkerModule } from './worker.module.js';

/** Worker process: one model, its queue, and health endpoints. */
async function bootstrap(): Promise<void> {
  const env = parseEnv(WorkerEnv);
  await Tracing.start('switchyard-worker');
  const app = await NestFactory.create<NestFastifyApplication>(WorkerModule.forRoot(env), new FastifyAdapter(), {
    bufferLogs: true,
  });
  app.useLogger(app.get(PinoLogger));
  // Exit 0 once shutdown completes (Nest's default re-raises the signal: exit status 143).
  app.enableShutdownHooks([], { useProcessExit: true });
  // Health endpoints answer (not ready) while the model loads, so probes see progress.
  await app.listen(env.HEALTH_PORT, env.HOST);
  await app.get(ModelWorkerService).start();
}

bootstrap().catch((err: unknown) => {
  const message = err instanceof ConfigError ? err.message : ((err as Error).stack ?? String(err));
  Logger.flush();
  new Logger('Worker').error(`refusing to start: ${message}`);
  process.exit(1);
});
