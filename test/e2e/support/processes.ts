import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { NODE_FLAGS } from '../../../libs/runtime/src/config/node-flags.js';

const ROOT = process.cwd();
export const FIXTURE_MODELS = resolve(ROOT, 'test/fixtures/models');

/** A real API or worker process started by a test, with its output kept for diagnostics. */
export class ServiceProcess {
  private output = '';
  readonly exited: Promise<number | null>;

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
    readonly port: number,
  ) {
    child.stdout?.on('data', (d: Buffer) => (this.output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (this.output += d.toString()));
    this.exited = new Promise((res) => child.once('exit', (code) => res(code)));
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get logs(): string {
    return this.output;
  }

  /** Polls a health path until it answers 200, or fails with the process output. */
  async waitReady(path: string, timeoutMs = 90_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      if (this.child.exitCode !== null)
        throw new Error(`${this.name} exited (${this.child.exitCode}):\n${this.output}`);
      const ok = await fetch(this.url + path).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) return;
      await sleep(100);
    }
    throw new Error(`${this.name} not ready after ${timeoutMs} ms:\n${this.output}`);
  }

  /** SIGTERM, then wait for the exit (graceful shutdown). */
  async stop(timeoutMs = 20_000): Promise<number | null> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return this.child.exitCode;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }

  signal(sig: NodeJS.Signals): void {
    this.child.kill(sig);
  }
}

export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const server = createServer();
    server.once('error', rej);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => res(port));
    });
  });
}

/** Runs an app as its users do: `node <NODE_FLAGS> <entry>`. */
function launch(name: string, entry: string, env: Record<string, string>, port: number): ServiceProcess {
  const child = spawn(process.execPath, [...NODE_FLAGS, resolve(ROOT, entry)], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new ServiceProcess(name, child, port);
}

/** Starts an API process; distributed when `REDIS_URL` is in env, embedded otherwise. */
export async function startApi(env: Record<string, string>, opts: { wait?: boolean } = {}): Promise<ServiceProcess> {
  const port = await freePort();
  // Auth is off unless a test turns it on (AUTH=on with ADMIN_API_KEY). Workers count as live
  // for 30 s after a heartbeat, not 6: on a starved CI host a busy worker's 2 s heartbeat was
  // seen to lapse for longer, and the API refused its requests (503) as if it had died.
  const api = launch(
    'api',
    'dist/apps/api/src/main.js',
    { PORT: String(port), AUTH: 'off', WORKER_LIVENESS_MS: '30000', ...env },
    port,
  );
  if (opts.wait !== false) await api.waitReady('/v2/health/ready');
  return api;
}

/** Starts a worker for one model and waits until it consumes its queue. */
export async function startWorker(env: Record<string, string>, opts: { wait?: boolean } = {}): Promise<ServiceProcess> {
  const port = await freePort();
  const worker = launch(
    `worker(${env.MODEL})`,
    'dist/apps/worker/src/main.js',
    { HEALTH_PORT: String(port), ...env },
    port,
  );
  if (opts.wait !== false) await worker.waitReady('/health/ready');
  return worker;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
