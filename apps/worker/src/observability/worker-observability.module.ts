import {
  Global,
  Inject,
  Injectable,
  Module,
  type DynamicModule,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { LoggerModule } from 'nestjs-pino';
import { WorkerEnv } from '#runtime';
import { logTracingState, loggerParams, METRICS_REGISTRY, MetricsController, Tracing } from '#telemetry';
import { WorkerTelemetryService } from './worker-telemetry.service.js';

/** Flushes telemetry last: a global module's shutdown hooks run after the worker module's. */
@Injectable()
class WorkerTelemetryLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(@Inject(WorkerTelemetryService) private readonly telemetry: WorkerTelemetryService) {}

  onApplicationBootstrap(): void {
    logTracingState(Tracing.get());
  }

  async onApplicationShutdown(): Promise<void> {
    await this.telemetry.shutdown();
  }
}

/** The worker's logging (JSON via nestjs-pino), health checks (terminus), metrics and telemetry. */
@Global()
@Module({})
export class WorkerObservabilityModule {
  static forRoot(env: WorkerEnv): DynamicModule {
    return {
      module: WorkerObservabilityModule,
      global: true,
      imports: [
        LoggerModule.forRoot(
          loggerParams({ level: env.LOG_LEVEL, format: env.LOG_FORMAT, service: 'switchyard-worker' }),
        ),
        TerminusModule.forRoot({ logger: false }),
      ],
      controllers: [MetricsController],
      providers: [
        { provide: WorkerEnv, useValue: env },
        WorkerTelemetryService,
        {
          provide: METRICS_REGISTRY,
          useFactory: (t: WorkerTelemetryService) => t.registry,
          inject: [WorkerTelemetryService],
        },
        WorkerTelemetryLifecycle,
      ],
      exports: [WorkerTelemetryService, TerminusModule],
    };
  }
}
