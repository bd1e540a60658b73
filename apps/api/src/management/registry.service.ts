import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { Inject, Injectable } from '@nestjs/common';
import { ScoringError } from '#contracts';
import {
  ApiEnv,
  ConfigError,
  createFriendlyHandler,
  LoadedModel,
  ManagementStore,
  readRawModelConfig,
  resolveDeployment,
  type VersionRecord,
} from '#runtime';
import { MANAGEMENT_STORE, requireStore } from './management-store.provider.js';
import type { RegisterVersionDto } from './management.dto.js';

/** An upload as the controller hands it over: the ONNX stream and the form's other fields. */
export interface VersionUpload {
  file: Readable;
  config?: Record<string, unknown>;
  labels?: Buffer;
  version?: string;
  description?: string;
  tags?: Record<string, string>;
}

/**
 * The model registry: versions are registered from the repository or uploaded into the model
 * store, and accepted only after onnxruntime loads them with their config (a bad artifact or a
 * config that does not fit it is refused with 400, naming the problem).
 */
@Injectable()
export class RegistryService {
  constructor(
    @Inject(MANAGEMENT_STORE) private readonly store: ManagementStore | null,
    @Inject(ApiEnv) private readonly env: ApiEnv,
  ) {}

  async registerFromRepository(model: string, dto: RegisterVersionDto): Promise<VersionRecord> {
    const store = requireStore(this.store);
    const versionDir = resolve(this.env.MODEL_REPOSITORY, dto.repository_path);
    const modelDir = dirname(versionDir);
    const artifact = join(versionDir, 'model.onnx');
    if (
      !(await stat(artifact).then(
        (s) => s.isFile(),
        () => false,
      ))
    ) {
      throw ScoringError.badRequest(`repository_path: no model.onnx at ${dto.repository_path} in the model repository`);
    }
    const { raw } = await readRawModelConfig(modelDir).catch((err: Error) => {
      throw ScoringError.badRequest(err.message);
    });
    const version = dto.version ?? (await this.nextVersion(store, model));
    const record = await this.validated({
      model,
      version,
      artifact,
      dir: modelDir,
      config: raw as Record<string, unknown>,
      source: 'repository',
      description: dto.description,
      tags: dto.tags,
    });
    await store.addVersion(record);
    return record;
  }

  async registerUpload(model: string, upload: VersionUpload): Promise<VersionRecord> {
    const store = requireStore(this.store);
    const version = upload.version ?? (await this.nextVersion(store, model));
    const dir = resolve(this.env.MODEL_STORE ?? this.env.MODEL_REPOSITORY, model, version);
    if (
      await stat(dir).then(
        () => true,
        () => false,
      )
    ) {
      throw new ScoringError(409, `the model store already has ${model}/${version}`);
    }
    await mkdir(dir, { recursive: true });
    try {
      const artifact = join(dir, 'model.onnx');
      await pipeline(upload.file, createWriteStream(`${artifact}.part`));
      if ((upload.file as Readable & { truncated?: boolean }).truncated) {
        throw new ScoringError(413, `model file larger than MAX_UPLOAD_BYTES (${this.env.MAX_UPLOAD_BYTES})`);
      }
      await rename(`${artifact}.part`, artifact);
      if (upload.labels) await writeFile(join(dir, 'labels.json'), upload.labels);
      const record = await this.validated({
        model,
        version,
        artifact,
        dir,
        config: upload.config ?? {},
        source: 'upload',
        description: upload.description,
        tags: upload.tags,
      });
      await store.addVersion(record);
      return record;
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
  }

  /** Loads the artifact with its config in onnxruntime, then releases it; fills signature and hash. */
  private async validated(
    partial: Omit<VersionRecord, 'sha256' | 'size' | 'platform' | 'inputs' | 'outputs' | 'created_at'>,
  ): Promise<VersionRecord> {
    const draft = { ...partial, sha256: '', size: 0, platform: '', inputs: [], outputs: [], created_at: '' };
    try {
      const loaded = await LoadedModel.load(await resolveDeployment(draft, {}));
      const { metadata } = loaded;
      // The handler's options and labels file must fit the model too.
      await createFriendlyHandler(loaded).finally(() => loaded.release());
      const size = (await stat(partial.artifact)).size;
      return {
        ...draft,
        sha256: await sha256Of(partial.artifact),
        size,
        platform: metadata.platform,
        inputs: metadata.inputs,
        outputs: metadata.outputs,
        created_at: new Date().toISOString(),
      };
    } catch (err) {
      if (err instanceof ConfigError) throw ScoringError.badRequest(`model refused: ${err.message}`);
      throw err;
    }
  }

  private async nextVersion(store: ManagementStore, model: string): Promise<string> {
    const versions = await store.versions(model);
    return String(versions.reduce((max, v) => Math.max(max, Number(v.version)), 0) + 1);
  }
}

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}
