import { Global, Module, type DynamicModule } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import { LoggerModule } from 'nestjs-pino';
import type { ApiEnv } from '#runtime';
import { loggerParams, METRICS_REGISTRY, MetricsController } from '#telemetry';
import { ApiHealthController } from './api-health.controller.js';
import { ApiTelemetry, TelemetryLifecycle } from './api-telemetry.js';
import { StatusController } from './status.controller.js';
import { TelemetryInterceptor } from './telemetry.interceptor.js';

/**
 * Logging (nestjs-pino), health (terminus), `/metrics`, the request interceptor and the
 * telemetry's lifecycle. Global, so its shutdown hook runs after the app module's.
 */
@Global()
@Module({})
export class ObservabilityModule {
  static forRoot(env: ApiEnv, telemetry: ApiTelemetry): DynamicModule {
    return {
      module: ObservabilityModule,
      global: true,
      imports: [
        LoggerModule.forRoot(loggerParams({ level: env.LOG_LEVEL, format: env.LOG_FORMAT, service: 'switchyard-api' })),
        TerminusModule.forRoot({ logger: false }),
      ],
      // With METRICS_PORT set, /metrics is served there (metrics-port.ts), not on PORT.
      controllers: env.METRICS_PORT === undefined ? [MetricsController] : [],
      providers: [
        { provide: ApiTelemetry, useValue: telemetry },
        { provide: METRICS_REGISTRY, useValue: telemetry.registry },
        // Only with tracing is there a context to carry into handlers; without an interceptor,
        // Nest calls a handler directly instead of through an rxjs chain per request.
        ...(telemetry.tracing.enabled ? [{ provide: APP_INTERCEPTOR, useClass: TelemetryInterceptor }] : []),
        TelemetryLifecycle,
      ],
      exports: [ApiTelemetry, TerminusModule],
    };
  }
}

/**
 * The app's root module with observability added: the module above, and the controllers that
 * need the app's own providers (LifecycleService, AdminGuard, the transport) — server health
 * (`/v2/health/*`) and the status page (`/admin/status`).
 */
export function withObservability(root: DynamicModule, env: ApiEnv, telemetry: ApiTelemetry): DynamicModule {
  return {
    ...root,
    imports: [...(root.imports ?? []), ObservabilityModule.forRoot(env, telemetry)],
    controllers: [...(root.controllers ?? []), ApiHealthController, StatusController],
  };
}
