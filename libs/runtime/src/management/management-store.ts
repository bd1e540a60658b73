import type { Redis } from 'ioredis';
import { ScoringError } from '../../../contracts/src/index.js';
import type { ManagementKeys } from './management-keys.js';
import type { EndpointRecord, VersionRecord } from './management-records.js';

/** What changed, published on the management channel so every API instance and worker reloads. */
export interface ManagementEvent {
  kind: 'endpoint' | 'model';
  name: string;
  revision?: number;
}

/** Replaces a hash field only if it still holds what the writer read: optimistic concurrency. */
const COMPARE_AND_SET = `
local current = redis.call('HGET', KEYS[1], ARGV[1])
if (current == false and ARGV[2] == '') or current == ARGV[2] then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
  return 1
end
return 0`;

/**
 * Model registry, endpoints and deployments, in Redis so every API instance and worker sees the
 * same. Records are JSON in hashes; updates are compare-and-set and announced on a channel.
 * Production Redis needs AOF persistence for this state to survive a restart.
 */
export class ManagementStore {
  constructor(
    private readonly redis: Redis,
    readonly keys: ManagementKeys,
  ) {}

  async listModels(): Promise<string[]> {
    return (await this.redis.smembers(this.keys.models)).sort();
  }

  /** Newest first. */
  async versions(model: string): Promise<VersionRecord[]> {
    const hash = await this.redis.hgetall(this.keys.versions(model));
    return Object.values(hash)
      .map((v) => JSON.parse(v) as VersionRecord)
      .sort((a, b) => Number(b.version) - Number(a.version));
  }

  async version(model: string, version: string): Promise<VersionRecord | undefined> {
    const json = await this.redis.hget(this.keys.versions(model), version);
    return json ? (JSON.parse(json) as VersionRecord) : undefined;
  }

  /** Adds a version; 409 if it exists. */
  async addVersion(record: VersionRecord): Promise<void> {
    const added = await this.redis.hsetnx(this.keys.versions(record.model), record.version, JSON.stringify(record));
    if (added !== 1) throw new ScoringError(409, `model '${record.model}' version ${record.version} already exists`);
    await this.redis.sadd(this.keys.models, record.model);
    await this.announce({ kind: 'model', name: record.model });
  }

  async removeVersion(model: string, version: string): Promise<void> {
    const deployedBy = (await this.endpoints()).flatMap((e) =>
      Object.values(e.deployments)
        .filter((d) => d.model === model && d.version === version)
        .map((d) => `${e.name}/${d.name}`),
    );
    if (deployedBy.length > 0) {
      throw new ScoringError(409, `model '${model}' version ${version} is deployed by ${deployedBy.join(', ')}`);
    }
    await this.redis.hdel(this.keys.versions(model), version);
    if ((await this.redis.hlen(this.keys.versions(model))) === 0) await this.redis.srem(this.keys.models, model);
    await this.announce({ kind: 'model', name: model });
  }

  async endpoints(): Promise<EndpointRecord[]> {
    const hash = await this.redis.hgetall(this.keys.endpoints);
    return Object.values(hash)
      .map((v) => JSON.parse(v) as EndpointRecord)
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  async endpoint(name: string): Promise<EndpointRecord | undefined> {
    const json = await this.redis.hget(this.keys.endpoints, name);
    return json ? (JSON.parse(json) as EndpointRecord) : undefined;
  }

  /** Creates an endpoint; 409 if the name is taken. */
  async createEndpoint(record: EndpointRecord): Promise<void> {
    const ok = await this.compareAndSet(record.name, '', JSON.stringify(record));
    if (!ok) throw new ScoringError(409, `endpoint '${record.name}' already exists`);
    await this.announce({ kind: 'endpoint', name: record.name, revision: record.revision });
  }

  /**
   * Applies `change` to the current record and writes it if nobody wrote in between (retries
   * otherwise). `change` may throw a ScoringError to refuse the update.
   */
  async updateEndpoint(name: string, change: (current: EndpointRecord) => EndpointRecord): Promise<EndpointRecord> {
    for (let attempt = 0; attempt < 20; attempt++) {
      const json = await this.redis.hget(this.keys.endpoints, name);
      if (!json) throw ScoringError.notFound(`endpoint '${name}' not found`);
      const next = change(JSON.parse(json) as EndpointRecord);
      const updated: EndpointRecord = { ...next, revision: next.revision + 1, updated_at: new Date().toISOString() };
      if (await this.compareAndSet(name, json, JSON.stringify(updated))) {
        await this.announce({ kind: 'endpoint', name, revision: updated.revision });
        return updated;
      }
    }
    throw new ScoringError(409, `endpoint '${name}' is being changed concurrently; try again`);
  }

  async deleteEndpoint(name: string): Promise<void> {
    if ((await this.redis.hdel(this.keys.endpoints, name)) === 0) {
      throw ScoringError.notFound(`endpoint '${name}' not found`);
    }
    await this.announce({ kind: 'endpoint', name });
  }

  private async compareAndSet(field: string, expected: string, value: string): Promise<boolean> {
    return (await this.redis.eval(COMPARE_AND_SET, 1, this.keys.endpoints, field, expected, value)) === 1;
  }

  private async announce(event: ManagementEvent): Promise<void> {
    await this.redis.publish(this.keys.events, JSON.stringify(event));
  }
}
