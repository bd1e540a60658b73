import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { ScoringError } from '#contracts';
import { ApiEnv, ConfigError, ManagementStore, type EndpointRecord } from '#runtime';
import { hashKey } from '../auth/secret-compare.js';
import { EndpointsService } from './endpoints.service.js';
import { readEndpointsFile, type FileEndpointDto, type FileModelDto } from './endpoints-file.js';
import { MANAGEMENT_STORE } from './management-store.provider.js';
import { newEndpointKey } from './endpoint-keys.js';
import { RegistryService } from './registry.service.js';

/**
 * Applies ENDPOINTS_FILE at start, idempotently: registers missing versions, creates missing
 * endpoints (keys from the environment), and changes deployments, traffic and mirroring only
 * where they differ. Things the file does not mention are left alone. Any problem stops the API.
 */
@Injectable()
export class EndpointsFileLoader implements OnApplicationBootstrap {
  private readonly logger = new Logger('EndpointsFile');

  constructor(
    @Inject(ApiEnv) private readonly env: ApiEnv,
    @Inject(MANAGEMENT_STORE) private readonly store: ManagementStore | null,
    @Inject(RegistryService) private readonly registry: RegistryService,
    @Inject(EndpointsService) private readonly endpoints: EndpointsService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const path = this.env.ENDPOINTS_FILE;
    if (!path) return;
    if (!this.store) {
      throw new ConfigError(`ENDPOINTS_FILE ${path}: needs the distributed topology (set REDIS_URL)`);
    }
    const file = await readEndpointsFile(path);
    let changes = 0;
    for (const [i, model] of (file.models ?? []).entries()) {
      changes += await this.at(path, `models[${i}]`, () => this.applyModel(this.store!, model));
    }
    for (const [i, endpoint] of (file.endpoints ?? []).entries()) {
      changes += await this.at(path, `endpoints[${i}]`, () =>
        this.applyEndpoint(this.store!, endpoint, `endpoints[${i}]`),
      );
    }
    this.logger.log(`applied ${path}: ${changes} change(s)`);
  }

  /** Runs one step; a refusal becomes a ConfigError naming the file and the entry. */
  private async at(path: string, field: string, step: () => Promise<number>): Promise<number> {
    try {
      return await step();
    } catch (err) {
      if (err instanceof ConfigError) throw err;
      throw new ConfigError(`ENDPOINTS_FILE ${path}: ${field}: ${(err as Error).message}`);
    }
  }

  private async applyModel(store: ManagementStore, model: FileModelDto): Promise<number> {
    let changes = 0;
    for (const v of model.versions) {
      let existing = await store.version(model.name, v.version!);
      if (!existing) {
        try {
          await this.registry.registerFromRepository(model.name, v);
          this.logger.log(`registered ${model.name} version ${v.version} from ${v.repository_path}`);
          changes++;
          continue;
        } catch (err) {
          // Another API instance starting at the same moment registered it first: check it
          // like one registered before.
          if (!(err instanceof ScoringError && err.status === 409)) throw err;
          existing = await store.version(model.name, v.version!);
          if (!existing) throw err;
        }
      }
      const artifact = join(resolve(this.env.MODEL_REPOSITORY, v.repository_path), 'model.onnx');
      const sha256 = await sha256Of(artifact).catch(() => undefined);
      if (existing.artifact !== artifact && existing.sha256 !== sha256) {
        throw new Error(
          `${model.name} version ${v.version} is already registered with another artifact ` +
            `(${existing.artifact}, sha256 ${existing.sha256.slice(0, 12)}); use a new version number`,
        );
      }
      if (existing.artifact === artifact && sha256 && existing.sha256 !== sha256) {
        throw new Error(
          `${v.repository_path}/model.onnx changed since ${model.name} version ${v.version} was registered ` +
            `(sha256 ${existing.sha256.slice(0, 12)} → ${sha256.slice(0, 12)}); register it as a new version`,
        );
      }
    }
    return changes;
  }

  private async applyEndpoint(store: ManagementStore, e: FileEndpointDto, field: string): Promise<number> {
    const primary = this.envKey(e.keys.primary_env, `${field}.keys.primary_env`);
    const secondary = e.keys.secondary_env
      ? this.envKey(e.keys.secondary_env, `${field}.keys.secondary_env`)
      : undefined;
    const current = await store.endpoint(e.name);
    const hashes = {
      primary: hashKey(primary),
      // Without secondary_env the secondary key is random (unusable) but stays stable across starts.
      secondary: secondary ? hashKey(secondary) : (current?.keys.secondary ?? hashKey(newEndpointKey())),
    };
    let changes = (await this.endpoints.ensureWithKeyHashes(e.name, hashes, e.description)) ? 1 : 0;

    let record = (await store.endpoint(e.name))!;
    for (const d of e.deployments ?? []) {
      const have = record.deployments[d.name];
      const settings = plain(d.settings);
      if (have && have.model === d.model && have.version === d.version && same(have.settings, settings)) continue;
      await this.endpoints.putDeployment(e.name, d.name, { model: d.model, version: d.version, settings });
      changes++;
    }
    record = (await store.endpoint(e.name))!;
    if (e.traffic && !same(record.traffic, e.traffic)) {
      await this.endpoints.setTraffic(e.name, e.traffic);
      changes++;
    }
    if (e.mirror && !sameMirror(record.mirror, e.mirror)) {
      await this.endpoints.setMirror(e.name, e.mirror);
      changes++;
    }
    return changes;
  }

  private envKey(name: string, field: string): string {
    const value = process.env[name];
    if (!value)
      throw new ConfigError(
        `ENDPOINTS_FILE ${this.env.ENDPOINTS_FILE}: ${field}: environment variable ${name} is not set`,
      );
    if (value.length < 16) {
      throw new ConfigError(
        `ENDPOINTS_FILE ${this.env.ENDPOINTS_FILE}: ${field}: the key in ${name} must be at least 16 characters`,
      );
    }
    return value;
  }
}

function plain(value: object | undefined): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value ?? {}).filter(([, v]) => v !== undefined));
}

function same(a: object, b: object): boolean {
  const canon = (o: object) => JSON.stringify(Object.entries(plain(o)).sort(([x], [y]) => x.localeCompare(y)));
  return canon(a) === canon(b);
}

function sameMirror(current: EndpointRecord['mirror'], wanted: { deployment: string; percent: number }): boolean {
  if (wanted.percent === 0) return !current;
  return current?.deployment === wanted.deployment && current.percent === wanted.percent;
}

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}
