// class-transformer's @Type reads decorator metadata when the class is defined.
import 'reflect-metadata';
import { Type, plainToInstance } from 'class-transformer';
import {
  IsIn,
  IsInt,
  IsNotEmpty,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  MinLength,
  validateSync,
} from 'class-validator';
import { ConfigError } from '../repository/config-error.js';

/** Environment shared by the API and the workers. */
export class CommonEnv {
  /**
   * Redis for the distributed topology (`redis://[:password@]host:port[/db]`, `rediss://` for TLS,
   * `unix:///path/to/redis.sock[?db=N&password=...]` for a Redis on the same host).
   * Unset: the API runs embedded, with every model in-process.
   */
  @IsOptional()
  @Matches(/^(rediss?:\/\/.+|unix:\/\/\/[^?]+(\?.*)?)$/, {
    message: 'REDIS_URL must look like redis://host:6379, rediss://host:6380 or unix:///path/to/redis.sock',
  })
  REDIS_URL?: string;

  /** Prefix of every Redis key. Use a hash tag such as `{sy}` on Redis Cluster. @defaultValue 'sy' */
  @IsString()
  @Matches(/^[A-Za-z0-9{}_.-]{1,32}$/)
  REDIS_PREFIX = 'sy';

  /** The model repository directory. @defaultValue './models' */
  @IsString()
  @IsNotEmpty()
  MODEL_REPOSITORY = './models';

  /** @defaultValue 'info' */
  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL = 'info';

  /**
   * `json`: one JSON object per line. `pretty`: human-readable (pino-pretty), for local use.
   * @defaultValue `pretty` when stdout is a terminal, else `json`
   */
  @IsOptional()
  @IsIn(['json', 'pretty'])
  LOG_FORMAT?: 'json' | 'pretty';

  /** Interface the HTTP server binds; containers set 0.0.0.0. @defaultValue '127.0.0.1' */
  @IsString()
  @IsNotEmpty()
  HOST = '127.0.0.1';
}

/** Environment of the API app (`npm start`, `npm run start:api`). */
export class ApiEnv extends CommonEnv {
  /** @defaultValue 8080 */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(65535)
  PORT = 8080;

  /**
   * Serves `/metrics` on this port instead of PORT (Triton's `--metrics-port`), so a Service or
   * Ingress that publishes PORT does not publish the metrics; unset, `/metrics` is on PORT.
   * @defaultValue unset
   */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(65535)
  METRICS_PORT?: number;

  /** Largest request body accepted; larger ones get 413. @defaultValue 16777216 (16 MiB) */
  @Type(() => Number)
  @IsInt()
  @Min(1024)
  @Max(1024 * 1024 * 1024)
  BODY_LIMIT_BYTES = 16 * 1024 * 1024;

  /** Requests this instance may wait on at once; more are refused with 429. @defaultValue 10000 */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  MAX_INFLIGHT_REQUESTS = 10_000;

  /**
   * A worker whose last heartbeat (every 2 s) is older than this is not counted as live; with
   * none live, a model's requests get 503. Raise it where hosts stall processes for seconds
   * (an overcommitted VM, a model whose load blocks the event loop); a crashed worker is then
   * noticed later, its requests meanwhile ending in 504 at their deadline.
   * @defaultValue 6000
   */
  @Type(() => Number)
  @IsInt()
  @Min(4000)
  @Max(600_000)
  WORKER_LIVENESS_MS = 6000;

  /**
   * On SIGTERM: answer not-ready for this long before closing the listener, so a load
   * balancer stops sending new requests first. (Kubernetes: or use a preStop sleep.)
   * @defaultValue 0
   */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(120_000)
  SHUTDOWN_DRAIN_MS = 0;

  /**
   * `on`: scoring needs an endpoint key and management needs ADMIN_API_KEY. `off`: no checks
   * (local use only; the API says so loudly at start).
   * @defaultValue 'on' with REDIS_URL, 'off' in embedded mode
   */
  @IsOptional()
  @IsIn(['on', 'off'])
  AUTH?: 'on' | 'off';

  /** Admin key for the management API, status page and queue board. Required when AUTH is on. */
  @IsOptional()
  @IsString()
  @MinLength(16, { message: 'ADMIN_API_KEY must be at least 16 characters' })
  ADMIN_API_KEY?: string;

  /**
   * Where uploaded model versions are written: a volume the workers mount at the same path.
   * @defaultValue MODEL_REPOSITORY
   */
  @IsOptional()
  @IsString()
  MODEL_STORE?: string;

  /** Largest ONNX upload accepted by the registry. @defaultValue 536870912 (512 MiB) */
  @Type(() => Number)
  @IsInt()
  @Min(1024)
  MAX_UPLOAD_BYTES = 512 * 1024 * 1024;

  /** Endpoints file (YAML) applied idempotently at start: models, endpoints, deployments, traffic. */
  @IsOptional()
  @IsString()
  ENDPOINTS_FILE?: string;

  /** Embedded mode: comma-separated models to serve. @defaultValue every model in the repository */
  @IsOptional()
  @Matches(/^[A-Za-z0-9_.,-]+$/)
  EMBEDDED_MODELS?: string;

  /** Seconds an async job's result (or error) is kept once it is finished. @defaultValue 3600 */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(30 * 24 * 3600)
  ASYNC_RESULT_TTL_S = 3600;

  /**
   * Deadline of an async job (ms) unless the request asks for less (`timeout_ms`,
   * `x-timeout-ms`). Independent of the model's synchronous `default_timeout_ms`.
   * @defaultValue 3600000 (1 hour)
   */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(7 * 24 * 3600 * 1000)
  ASYNC_DEFAULT_TIMEOUT_MS = 3_600_000;

  /** Queue priority of async jobs that name none (0 is first; larger waits). @defaultValue 10 */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(2_097_152)
  ASYNC_DEFAULT_PRIORITY = 10;

  /**
   * Comma-separated `host` or `host:port` entries webhooks may be sent to (a hostname callback
   * is also allowed when it resolves to a listed address). Empty: webhooks are refused.
   * @defaultValue '' (none)
   */
  @IsOptional()
  @Matches(/^[A-Za-z0-9.:[\]_,\s-]*$/, { message: 'WEBHOOK_ALLOWED_HOSTS must be host or host:port entries' })
  WEBHOOK_ALLOWED_HOSTS?: string;

  /** HMAC-SHA256 key of `X-Switchyard-Signature`. Required when WEBHOOK_ALLOWED_HOSTS is set. */
  @IsOptional()
  @IsString()
  @MinLength(16, { message: 'WEBHOOK_SECRET must be at least 16 characters' })
  WEBHOOK_SECRET?: string;

  /** Delivery attempts per webhook (the first included). @defaultValue 5 */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(20)
  WEBHOOK_MAX_ATTEMPTS = 5;

  /** Wait before the second attempt (ms); doubles for each next one. @defaultValue 1000 */
  @Type(() => Number)
  @IsInt()
  @Min(10)
  @Max(3_600_000)
  WEBHOOK_RETRY_BASE_MS = 1000;

  /** Time one delivery attempt may take, connect to response (ms). @defaultValue 10000 */
  @Type(() => Number)
  @IsInt()
  @Min(100)
  @Max(120_000)
  WEBHOOK_TIMEOUT_MS = 10_000;
}

/** Environment of a worker (`MODEL=<name> npm run start:worker`). */
export class WorkerEnv extends CommonEnv {
  /** The repository model this worker serves (a directory name). Set this or DEPLOYMENT. */
  @IsOptional()
  @Matches(/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,63}$/, { message: 'MODEL must name a model directory' })
  MODEL?: string;

  /** The deployment this worker serves, as `<endpoint>/<deployment>` (management API). Set this or MODEL. */
  @IsOptional()
  @Matches(/^[a-z0-9][a-z0-9-]{0,31}\/[a-z0-9][a-z0-9-]{0,31}$/, {
    message: 'DEPLOYMENT must look like <endpoint>/<deployment>',
  })
  DEPLOYMENT?: string;

  /** Serve only this version. @defaultValue the model's version_policy */
  @IsOptional()
  @Matches(/^[1-9][0-9]*$/, { message: 'MODEL_VERSION must be a positive integer' })
  MODEL_VERSION?: string;

  /** Overrides the config's `instance.device`, so one config serves CPU and GPU pools. */
  @IsOptional()
  @IsIn(['cpu', 'cuda'])
  DEVICE?: 'cpu' | 'cuda';

  /** Port of the worker's health endpoints. 0 picks a free port. @defaultValue 8081 */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(65535)
  HEALTH_PORT = 8081;

  /** BullMQ jobs (single requests or envelopes of requests) held at once. @defaultValue (instance.count + 1) × max_batch_size, at least 8 */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(10_000)
  WORKER_CONCURRENCY?: number;

  /**
   * BullMQ job lock, renewed every half of it while the worker lives. A killed worker's jobs
   * are handed to another worker within about this plus STALLED_INTERVAL_MS.
   * @defaultValue 5000
   */
  @Type(() => Number)
  @IsInt()
  @Min(1000)
  LOCK_DURATION_MS = 5_000;

  /** How often BullMQ looks for stalled jobs (those whose lock expired). @defaultValue 2000 */
  @Type(() => Number)
  @IsInt()
  @Min(500)
  STALLED_INTERVAL_MS = 2_000;
}

/**
 * Parses the environment once into a typed config; refuses to start on a bad value, naming
 * the variable.
 */
export function parseEnv<T extends object>(cls: new () => T, env: NodeJS.ProcessEnv = process.env): T {
  const defined = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const config = plainToInstance(cls, defined, { exposeDefaultValues: true });
  const errors = validateSync(config, { whitelist: true });
  if (errors.length > 0) {
    const lines = errors.flatMap((e) => Object.values(e.constraints ?? {}).map((m) => `${e.property}: ${m}`));
    throw new ConfigError(`invalid environment:\n  - ${lines.join('\n  - ')}`);
  }
  return config;
}
