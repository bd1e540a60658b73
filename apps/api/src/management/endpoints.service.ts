import { Inject, Injectable } from '@nestjs/common';
import { ScoringError } from '#contracts';
import { deploymentQueue, ManagementStore, type DeploymentRecord, type EndpointRecord } from '#runtime';
import { hashKey } from '../auth/secret-compare.js';
import { queueBound, ScoringService } from '../inference/scoring.service.js';
import { newEndpointKey } from './endpoint-keys.js';
import { EndpointDirectory } from './endpoint-directory.service.js';
import { MANAGEMENT_STORE, requireStore } from './management-store.provider.js';
import type { CreateEndpointDto, DeploymentDto, MirrorDto } from './management.dto.js';
import { checkTraffic } from './traffic.js';

/** An endpoint as the management API shows it: never the key hashes. */
export type EndpointView = Omit<EndpointRecord, 'keys'>;

/** A deployment with what its workers report. */
export interface DeploymentStatus extends DeploymentRecord {
  queue: string;
  workers: number;
  /** Versions the live workers serve right now (two during a switch). */
  serving: string[];
  queue_depth: number;
  queue_limit: number;
  ready: boolean;
}

/** Endpoints, their deployments, traffic, mirroring and keys. Every change reaches all API instances and workers. */
@Injectable()
export class EndpointsService {
  constructor(
    @Inject(MANAGEMENT_STORE) private readonly store: ManagementStore | null,
    @Inject(EndpointDirectory) private readonly directory: EndpointDirectory,
    @Inject(ScoringService) private readonly scoring: ScoringService,
  ) {}

  /** Creates an endpoint with two fresh keys, returned in plain text this once. */
  async create(dto: CreateEndpointDto): Promise<EndpointView & { keys: { primary: string; secondary: string } }> {
    const keys = { primary: newEndpointKey(), secondary: newEndpointKey() };
    const now = new Date().toISOString();
    const record: EndpointRecord = {
      name: dto.name,
      description: dto.description,
      keys: { primary: hashKey(keys.primary), secondary: hashKey(keys.secondary) },
      deployments: {},
      traffic: {},
      revision: 1,
      created_at: now,
      updated_at: now,
    };
    await requireStore(this.store).createEndpoint(record);
    await this.directory.reload();
    return { ...view(record), keys };
  }

  /**
   * Creates the endpoint with these key hashes, or sets them when they differ (the endpoints
   * file: keys come from the environment). Returns whether anything changed.
   */
  async ensureWithKeyHashes(
    name: string,
    keys: { primary: string; secondary: string },
    description?: string,
  ): Promise<boolean> {
    const store = requireStore(this.store);
    const current = await store.endpoint(name);
    if (!current) {
      const now = new Date().toISOString();
      const record: EndpointRecord = {
        name,
        description,
        keys,
        deployments: {},
        traffic: {},
        revision: 1,
        created_at: now,
        updated_at: now,
      };
      try {
        await store.createEndpoint(record);
      } catch (err) {
        // Another API instance applying the same endpoints file created it a moment ago.
        if (!(err instanceof ScoringError && err.status === 409)) throw err;
        return this.ensureWithKeyHashes(name, keys, description);
      }
    } else if (current.keys.primary !== keys.primary || current.keys.secondary !== keys.secondary) {
      await store.updateEndpoint(name, (e) => ({ ...e, keys }));
    } else {
      return false;
    }
    await this.directory.reload();
    return true;
  }

  async list(): Promise<EndpointView[]> {
    return (await requireStore(this.store).endpoints()).map(view);
  }

  async get(name: string): Promise<EndpointView & { deployment_status: DeploymentStatus[] }> {
    const endpoint = await this.record(name);
    return { ...view(endpoint), deployment_status: await this.deploymentStatus(endpoint) };
  }

  async delete(name: string): Promise<void> {
    await requireStore(this.store).deleteEndpoint(name);
    await this.directory.reload();
  }

  /** Creates a deployment or switches it to another version/settings (workers follow). */
  async putDeployment(endpoint: string, name: string, dto: DeploymentDto): Promise<DeploymentRecord> {
    const store = requireStore(this.store);
    if (!(await store.version(dto.model, dto.version))) {
      throw ScoringError.badRequest(`model '${dto.model}' version ${dto.version} is not registered`);
    }
    const updated = await this.update(endpoint, (e) => {
      const current = e.deployments[name];
      const deployment: DeploymentRecord = {
        name,
        model: dto.model,
        version: dto.version,
        settings: { ...(dto.settings ?? {}) },
        revision: (current?.revision ?? 0) + 1,
        updated_at: new Date().toISOString(),
      };
      return { ...e, deployments: { ...e.deployments, [name]: deployment } };
    });
    return updated.deployments[name]!;
  }

  async deleteDeployment(endpoint: string, name: string): Promise<void> {
    await this.update(endpoint, (e) => {
      if (!e.deployments[name]) throw ScoringError.notFound(`endpoint '${endpoint}' has no deployment '${name}'`);
      if (e.traffic[name] || e.mirror?.deployment === name) {
        throw new ScoringError(
          409,
          `deployment '${name}' still takes traffic or mirrored traffic; shift it away first`,
        );
      }
      const { [name]: _removed, ...rest } = e.deployments;
      return { ...e, deployments: rest };
    });
  }

  async setTraffic(endpoint: string, traffic: unknown): Promise<Record<string, number>> {
    return (await this.update(endpoint, (e) => ({ ...e, traffic: checkTraffic(e, traffic) }))).traffic;
  }

  async setMirror(endpoint: string, dto: MirrorDto): Promise<EndpointRecord['mirror'] | null> {
    const updated = await this.update(endpoint, (e) => {
      if (dto.percent === 0) return { ...e, mirror: undefined };
      if (!e.deployments[dto.deployment]) {
        throw ScoringError.badRequest(`mirror: endpoint '${endpoint}' has no deployment '${dto.deployment}'`);
      }
      return { ...e, mirror: { deployment: dto.deployment, percent: dto.percent } };
    });
    return updated.mirror ?? null;
  }

  /** Replaces one key; the other keeps working, so clients rotate without downtime. */
  async regenerateKey(endpoint: string, which: 'primary' | 'secondary'): Promise<{ key: string; which: string }> {
    const key = newEndpointKey();
    await this.update(endpoint, (e) => ({ ...e, keys: { ...e.keys, [which]: hashKey(key) } }));
    return { key, which };
  }

  private async update(name: string, change: (e: EndpointRecord) => EndpointRecord): Promise<EndpointRecord> {
    const updated = await requireStore(this.store).updateEndpoint(name, change);
    await this.directory.reload();
    return updated;
  }

  private async record(name: string): Promise<EndpointRecord> {
    const endpoint = await requireStore(this.store).endpoint(name);
    if (!endpoint) throw ScoringError.notFound(`endpoint '${name}' not found`);
    return endpoint;
  }

  private async deploymentStatus(endpoint: EndpointRecord): Promise<DeploymentStatus[]> {
    const catalog = await this.scoring.catalog();
    return Object.values(endpoint.deployments).map((d) => {
      const queue = deploymentQueue(endpoint.name, d.name);
      const entry = catalog.get(queue);
      return {
        ...d,
        queue,
        workers: entry?.liveWorkers ?? 0,
        serving: entry?.metadata.versions ?? [],
        queue_depth: this.scoring.queueDepth(queue),
        queue_limit: entry ? queueBound(entry) : 0,
        ready: (entry?.liveWorkers ?? 0) > 0,
      };
    });
  }
}

function view(record: EndpointRecord): EndpointView {
  const { keys: _keys, ...rest } = record;
  return rest;
}
