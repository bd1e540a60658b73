import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { NODE_FLAGS } from '#runtime';

/** Repository root: `npm run bench` runs from it. */
export const ROOT = process.cwd();

/** Entry points of the processes the benchmark starts (compiled). */
export const ENTRY = {
  api: 'dist/apps/api/src/main.js',
  worker: 'dist/apps/worker/src/main.js',
  naiveServer: 'dist/bench/naive/server.js',
  naiveWorker: 'dist/bench/naive/worker.js',
  baselineEcho: 'dist/bench/redis-baseline-echo.js',
} as const;

/** Kernel clock ticks per second for /proc/<pid>/stat (USER_HZ; 100 on Linux). */
const CLK_TCK = 100;

/** A process the benchmark started, with its output kept for diagnostics. */
export class Service {
  private output = '';
  readonly exited: Promise<number | null>;

  private constructor(
    readonly name: string,
    readonly child: ChildProcess,
    readonly port: number,
  ) {
    child.stdout?.on('data', (d: Buffer) => (this.output = (this.output + d.toString()).slice(-20_000)));
    child.stderr?.on('data', (d: Buffer) => (this.output = (this.output + d.toString()).slice(-20_000)));
    this.exited = new Promise((res) => child.once('exit', (code) => res(code)));
  }

  /**
   * Spawns `node <entry>` with a minimal environment (PATH, HOST=127.0.0.1, LOG_LEVEL=warn)
   * plus `env`. `nodeArgs` go before the entry (e.g. `--cpu-prof`), after the flags Switchyard's
   * own apps start with everywhere (NODE_FLAGS).
   */
  static launch(
    name: string,
    entry: string,
    env: Record<string, string>,
    port: number,
    nodeArgs: string[] = [],
  ): Service {
    const ownFlags = entry === ENTRY.api || entry === ENTRY.worker ? NODE_FLAGS : [];
    const child = spawn(process.execPath, [...ownFlags, ...nodeArgs, resolve(ROOT, entry)], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new Service(name, child, port);
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get logs(): string {
    return this.output;
  }

  /** Polls a path until it answers 200; fails with the process output. */
  async waitReady(path: string, timeoutMs = 120_000): Promise<this> {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      if (!this.alive)
        throw new Error(`${this.name} exited (${this.child.exitCode ?? this.child.signalCode}):\n${this.output}`);
      const ok = await fetch(this.url + path, { signal: AbortSignal.timeout(2000) }).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) return this;
      await sleep(100);
    }
    throw new Error(`${this.name} not ready after ${timeoutMs} ms:\n${this.output}`);
  }

  /** False once the process has exited or was killed by a signal. */
  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** CPU seconds (user + sys, all threads) the process has used so far; 0 once it is gone. */
  cpuSeconds(): number {
    return processCpuSeconds(this.child.pid);
  }

  /** SIGTERM, then SIGKILL after `timeoutMs`. */
  async stop(timeoutMs = 15_000): Promise<void> {
    if (!this.alive) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    await this.exited;
    clearTimeout(timer);
  }
}

/** utime + stime of a process from /proc (Linux); 0 when unreadable. */
export function processCpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start at field 3.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  } catch {
    return 0;
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

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Stops every service given, in parallel, ignoring ones already gone. */
export async function stopAll(services: (Service | undefined)[]): Promise<void> {
  await Promise.all(services.map((s) => s?.stop()));
}
