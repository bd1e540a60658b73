import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Registry } from 'prom-client';
import type { WorkerStatsSnapshot } from '#runtime';
import { EmbeddedTransport, type ScoringTransport } from '#runtime';
import { ApiMetrics, createRegistry, logTracingState, ServingTelemetry, type Tracing } from '#telemetry';
import { instrumentTransport } from './instrument-transport.js';

/**
 * The API process's telemetry: its Prometheus registry and metrics, its tracing, and in
 * embedded mode the serving telemetry of the in-process models (what a worker reports).
 * Built in `main.ts` once the transport exists, before the app.
 */
export class ApiTelemetry {
  readonly registry: Registry = createRegistry();
  readonly metrics: ApiMetrics;
  /** Embedded mode only: metrics, rolling stats and capture of the in-process model servers. */
  readonly serving: ServingTelemetry | undefined;

  constructor(
    readonly transport: ScoringTransport,
    readonly tracing: Tracing,
  ) {
    this.metrics = new ApiMetrics(this.registry, {
      queueDepths: async () =>
        [...(await transport.catalog())].map(([queue, entry]) => ({
          deployment: queue,
          model: entry.metadata.name,
          pending: transport.queueDepth(queue),
        })),
      inFlight: () => transport.inFlight,
    });
    if (transport instanceof EmbeddedTransport) {
      const servers = transport.modelServers;
      this.serving = new ServingTelemetry({
        registry: this.registry,
        tracing,
        served: () =>
          [...servers].map(([name, s]) => ({
            deployment: name,
            model: s.model.name,
            versions: s.model.metadata.versions,
            device: s.model.config.instance.device,
            ready: transport.isHealthy(),
          })),
        captureConfig: (model) => servers.get(model)?.model.config.capture,
      }).install();
    }
    instrumentTransport(transport, tracing);
  }

  /** Embedded mode: the in-process stats of one model (distributed mode reads heartbeats). */
  localStats(queue: string): WorkerStatsSnapshot | undefined {
    return this.serving?.snapshot(queue);
  }

  /** Writes out captured payloads and flushes spans. */
  async shutdown(): Promise<void> {
    await this.serving?.shutdown();
    await this.tracing.shutdown();
  }
}

/**
 * Shuts telemetry down last: it lives in a global module, whose hooks run after the app
 * module's (and after the HTTP server and transport closed), so late spans are still flushed.
 */
@Injectable()
export class TelemetryLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(@Inject(ApiTelemetry) private readonly telemetry: ApiTelemetry) {}

  onApplicationBootstrap(): void {
    logTracingState(this.telemetry.tracing);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.telemetry.shutdown();
  }
}
