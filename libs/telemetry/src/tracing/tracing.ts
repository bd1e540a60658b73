import { trace, type Tracer } from '@opentelemetry/api';

/** How tracing is set up, read from the standard `OTEL_*` environment variables. */
export interface TracingSettings {
  /**
   * On when `OTEL_TRACES_EXPORTER` names an exporter (not `none`) or an OTLP endpoint is set
   * (`OTEL_EXPORTER_OTLP_ENDPOINT` / `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`); off when
   * `OTEL_SDK_DISABLED=true`. @defaultValue false
   */
  enabled: boolean;
  /** `otlp` or `console` (`OTEL_TRACES_EXPORTER`). @defaultValue 'otlp' */
  exporter: 'otlp' | 'console';
  /** OTLP encoding: `http/protobuf` or `http/json` (`OTEL_EXPORTER_OTLP[_TRACES]_PROTOCOL`). @defaultValue 'http/protobuf' */
  protocol: 'http/protobuf' | 'http/json';
  /** Why a setting was not honoured (e.g. `grpc`), for one warning at start. */
  warnings: string[];
}

export function tracingSettings(env: NodeJS.ProcessEnv = process.env): TracingSettings {
  const warnings: string[] = [];
  const exporters = (env.OTEL_TRACES_EXPORTER ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  const endpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_EXPORTER_OTLP_ENDPOINT;
  const disabled = env.OTEL_SDK_DISABLED?.toLowerCase() === 'true' || exporters.includes('none');
  const enabled = !disabled && (exporters.length > 0 || Boolean(endpoint));
  const exporter = exporters.includes('console') && !exporters.includes('otlp') ? 'console' : 'otlp';
  for (const e of exporters)
    if (!['otlp', 'console', 'none'].includes(e))
      warnings.push(`OTEL_TRACES_EXPORTER=${e} is not supported (otlp, console, none)`);
  const requested = (
    env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ||
    env.OTEL_EXPORTER_OTLP_PROTOCOL ||
    'http/protobuf'
  ).toLowerCase();
  const protocol = requested === 'http/json' ? 'http/json' : 'http/protobuf';
  if (requested !== protocol) warnings.push(`OTLP protocol '${requested}' is not supported: using http/protobuf`);
  return { enabled, exporter, protocol, warnings };
}

/** Shuts a provider down (flushing its spans). */
type Shutdown = () => Promise<void>;

/**
 * The process's tracing: off (a no-op tracer, nothing loaded) unless the environment turns it
 * on. When on, spans go through a batch processor to the configured exporter; the W3C trace
 * context is what travels in jobs. Start it once, before the app is built.
 */
export class Tracing {
  private static current: Tracing | undefined;

  private constructor(
    readonly enabled: boolean,
    readonly tracer: Tracer,
    readonly settings: TracingSettings,
    private readonly stop: Shutdown,
  ) {}

  /** The started tracing, or an off one when `start` was not called (tests, tools). */
  static get(): Tracing {
    return (Tracing.current ??= Tracing.off(tracingSettings({})));
  }

  /**
   * Starts tracing from the environment. `serviceName` applies unless `OTEL_SERVICE_NAME` (or
   * `OTEL_RESOURCE_ATTRIBUTES`) names the service.
   */
  static async start(serviceName: string, env: NodeJS.ProcessEnv = process.env): Promise<Tracing> {
    if (Tracing.current) return Tracing.current;
    const settings = tracingSettings(env);
    if (!settings.enabled) return (Tracing.current = Tracing.off(settings));
    const sdk = await import('./tracing-sdk.js');
    const provider = await sdk.createProvider(serviceName, settings);
    provider.register();
    const tracer = trace.getTracer('switchyard', process.env.npm_package_version ?? '0.1.0');
    return (Tracing.current = new Tracing(true, tracer, settings, () => provider.shutdown()));
  }

  /** Flushes spans not yet exported and stops. */
  async shutdown(): Promise<void> {
    await this.stop().catch(() => undefined);
  }

  private static off(settings: TracingSettings): Tracing {
    return new Tracing(false, trace.getTracer('switchyard'), settings, async () => undefined);
  }
}

/** A one-line description of the tracing state, for the start-up log. */
export function describeTracing(tracing: Tracing): string {
  if (!tracing.enabled) return 'tracing off (set OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_TRACES_EXPORTER to turn it on)';
  const { exporter, protocol } = tracing.settings;
  const target =
    process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || process.env.OTEL_EXPORTER_OTLP_ENDPOINT || 'default endpoint';
  const shown = target.replace(/\/\/[^@/]*@/, '//***@');
  return exporter === 'console' ? 'tracing on: spans to the console' : `tracing on: OTLP ${protocol} to ${shown}`;
}
