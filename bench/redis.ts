import { spawn, type ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { freePort, sleep } from './services.js';

/** Redis counters at one instant, from INFO. */
export interface RedisSnapshot {
  /** Per command: calls and µs spent (INFO commandstats; includes commands run inside Lua). */
  commands: Map<string, { calls: number; usec: number }>;
  /** INFO stats total_commands_processed (includes commands run inside Lua scripts). */
  processed: number;
  /** INFO cpu used_cpu_user + used_cpu_sys, seconds. */
  cpuS: number;
  netInBytes: number;
  netOutBytes: number;
  /** INFO memory used_memory, bytes. */
  usedMemory: number;
}

/** Redis work divided by the requests scored in between two snapshots. */
export interface RedisPerRequest {
  /** commandstats calls per request (every command, also those a Lua script runs). */
  commands: number;
  /** total_commands_processed per request (Redis 7.0 counts commands run inside Lua here too). */
  processed: number;
  /** Script invocations (EVALSHA/EVAL/FCALL) per request. */
  scripts: number;
  /** µs Redis spent executing commands, per request (commandstats usec). */
  commandUs: number;
  /** µs of Redis process CPU (user + sys), per request. */
  cpuUs: number;
  netInBytes: number;
  netOutBytes: number;
  /** Redis used_memory at the end of the run, MB (completed jobs BullMQ keeps live here). */
  usedMemoryMB: number;
  /** The busiest commands, calls per request. */
  top: { command: string; perRequest: number }[];
}

/** Commands the benchmark itself sends; left out of the per-request counts. */
const OWN = new Set(['info', 'ping', 'flushall', 'scan', 'del', 'unlink', 'select', 'client|setname', 'client']);

/** The Redis the benchmark runs against: a private redis-server (preferred) or a given URL. */
export class BenchRedis {
  private constructor(
    readonly url: string,
    readonly client: Redis,
    private readonly child?: ChildProcess,
  ) {}

  get isPrivate(): boolean {
    return this.child !== undefined;
  }

  /** Starts `redis-server` on a free port without persistence; uses `url` instead when given. */
  static async start(url?: string): Promise<BenchRedis> {
    if (url) return new BenchRedis(url, await connect(url));
    const port = await freePort();
    const child = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      {
        stdio: 'ignore',
      },
    );
    const failed = new Promise<never>((_, rej) =>
      child.once('error', (e) => rej(new Error(`redis-server: ${e.message}`))),
    );
    const privateUrl = `redis://127.0.0.1:${port}`;
    const client = await Promise.race([connect(privateUrl), failed]);
    return new BenchRedis(privateUrl, client, child);
  }

  async snapshot(): Promise<RedisSnapshot> {
    const [stats, cpu, commandstats, memory] = await Promise.all([
      this.client.info('stats'),
      this.client.info('cpu'),
      this.client.info('commandstats'),
      this.client.info('memory'),
    ]);
    const field = (text: string, name: string): number =>
      Number(new RegExp(`^${name}:(\\S+)`, 'm').exec(text)?.[1] ?? 0);
    const commands = new Map<string, { calls: number; usec: number }>();
    for (const m of commandstats.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)) {
      commands.set(m[1]!, { calls: Number(m[2]), usec: Number(m[3]) });
    }
    return {
      commands,
      processed: field(stats, 'total_commands_processed'),
      cpuS: field(cpu, 'used_cpu_user') + field(cpu, 'used_cpu_sys'),
      netInBytes: field(stats, 'total_net_input_bytes'),
      netOutBytes: field(stats, 'total_net_output_bytes'),
      usedMemory: field(memory, 'used_memory'),
    };
  }

  /** Deletes every key under these prefixes (on a private server: everything). */
  async cleanup(prefixes: string[]): Promise<void> {
    if (this.isPrivate) {
      await this.client.flushall();
      return;
    }
    for (const prefix of prefixes) {
      let cursor = '0';
      do {
        const [next, keys] = await this.client.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
        cursor = next;
        if (keys.length > 0) await this.client.unlink(...keys);
      } while (cursor !== '0');
    }
  }

  async stop(): Promise<void> {
    this.client.disconnect();
    if (!this.child || this.child.exitCode !== null) return;
    const exited = new Promise((r) => this.child!.once('exit', r));
    this.child.kill('SIGTERM');
    await Promise.race([exited, sleep(5000)]);
  }
}

/** Per-request Redis work between two snapshots; `requests` = responses scored. */
export function redisPerRequest(before: RedisSnapshot, after: RedisSnapshot, requests: number): RedisPerRequest {
  const n = Math.max(1, requests);
  let calls = 0;
  let usec = 0;
  let scripts = 0;
  let own = 0;
  const top: { command: string; perRequest: number }[] = [];
  for (const [command, a] of after.commands) {
    const b = before.commands.get(command) ?? { calls: 0, usec: 0 };
    const dc = a.calls - b.calls;
    if (dc <= 0) continue;
    if (OWN.has(command)) {
      own += dc;
      continue;
    }
    calls += dc;
    usec += a.usec - b.usec;
    if (/^(evalsha|eval|fcall|evalsha_ro|eval_ro)$/.test(command)) scripts += dc;
    top.push({ command, perRequest: dc / n });
  }
  top.sort((x, y) => y.perRequest - x.perRequest);
  return {
    commands: calls / n,
    processed: (after.processed - before.processed - own) / n,
    scripts: scripts / n,
    commandUs: usec / n,
    cpuUs: ((after.cpuS - before.cpuS) * 1e6) / n,
    netInBytes: (after.netInBytes - before.netInBytes) / n,
    netOutBytes: (after.netOutBytes - before.netOutBytes) / n,
    usedMemoryMB: after.usedMemory / 1e6,
    top: top.slice(0, 8),
  };
}

async function connect(url: string): Promise<Redis> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
  client.on('error', () => undefined);
  const until = Date.now() + 10_000;
  for (;;) {
    try {
      await client.connect();
      await client.ping();
      return client;
    } catch (err) {
      if (Date.now() > until)
        throw new Error(`Redis at ${url} not reachable: ${(err as Error).message}`, { cause: err });
      client.disconnect();
      await sleep(100);
    }
  }
}
