import { startApi, startWorker, type ServiceProcess } from './processes.js';

/** Every process any Fleet of this test file started, for the last-resort cleanup below. */
const everyone = new Set<ServiceProcess>();

function killEveryone(): void {
  for (const p of everyone) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
}

// If the test runner ends this file early (its timeout) the `after` hooks do not run: do not
// leave API and worker processes behind.
process.once('exit', killEveryone);
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    killEveryone();
    process.exit(128 + (signal === 'SIGTERM' ? 15 : 2));
  });
}

/**
 * The processes one test file starts. Each is recorded the moment it is spawned, before it is
 * ready, so `stopAll` in `after` ends every one of them even when a start-up failed half way.
 * Start-ups wait long: the test machine has 2 cores and may be busy.
 */
export class Fleet {
  readonly all: ServiceProcess[] = [];

  constructor(private readonly readyTimeoutMs = 180_000) {}

  async worker(env: Record<string, string>): Promise<ServiceProcess> {
    const worker = await startWorker(env, { wait: false });
    this.all.push(worker);
    everyone.add(worker);
    await worker.waitReady('/health/ready', this.readyTimeoutMs);
    return worker;
  }

  async api(env: Record<string, string>): Promise<ServiceProcess> {
    const api = await startApi(env, { wait: false });
    this.all.push(api);
    everyone.add(api);
    await api.waitReady('/v2/health/ready', this.readyTimeoutMs);
    return api;
  }

  /** Exit status and the last lines of output of every process, for a failing test's message. */
  diagnostics(lines = 30): string {
    return this.all
      .map((p) => {
        const state =
          p.child.exitCode !== null || p.child.signalCode !== null
            ? `exited ${p.child.exitCode ?? p.child.signalCode}`
            : 'running';
        const tail = p.logs.split('\n').slice(-lines).join('\n');
        return `--- ${p.name} pid ${p.child.pid} port ${p.port}: ${state}\n${tail}`;
      })
      .join('\n');
  }

  /** Runs a test body; on failure prints every process's state and output tail, then rethrows. */
  async explain<T>(body: () => Promise<T>): Promise<T> {
    try {
      return await body();
    } catch (err) {
      console.log(this.diagnostics().replace(/^/gm, '#   '));
      throw err;
    }
  }

  /** Resumes any stopped process, then SIGTERMs all (SIGKILL after 20 s) and waits for the exits. */
  async stopAll(): Promise<void> {
    for (const p of this.all) if (p.child.exitCode === null && p.child.signalCode === null) p.signal('SIGCONT');
    await Promise.all(this.all.map((p) => p.stop().catch(() => undefined)));
  }
}
