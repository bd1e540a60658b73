import { access, readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ConfigError } from './config-error.js';
import type { ModelConfig } from './model-config.js';
import { loadModelConfig } from './model-config-loader.js';

/** One version directory of a model, with its ONNX file. */
export interface ModelVersionFile {
  version: string;
  path: string;
}

/** A model as found on disk: its validated config and the versions its policy selects. */
export interface ResolvedModel {
  name: string;
  dir: string;
  config: ModelConfig;
  /** Newest first. */
  versions: ModelVersionFile[];
}

/**
 * The model repository on disk, Triton-style: `<root>/<name>/config.(yaml|json)` and
 * `<root>/<name>/<version>/model.onnx` with numeric version directories.
 */
export class ModelRepository {
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  /** Names of the model directories (those holding a config file), sorted. */
  async listModels(): Promise<string[]> {
    const entries = await readdir(this.root, { withFileTypes: true }).catch((err: NodeJS.ErrnoException) => {
      throw new ConfigError(`model repository ${this.root}: ${err.code === 'ENOENT' ? 'does not exist' : err.message}`);
    });
    const names: string[] = [];
    for (const entry of entries) {
      if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
      const files = await readdir(join(this.root, entry.name));
      if (files.some((f) => /^config\.(ya?ml|json)$/.test(f))) names.push(entry.name);
    }
    return names.sort();
  }

  /**
   * Loads a model's config and selects its versions.
   * @param pinnedVersion serve exactly this version, whatever the policy says (`MODEL_VERSION`).
   */
  async resolve(name: string, pinnedVersion?: string): Promise<ResolvedModel> {
    if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,63}$/.test(name)) {
      throw new ConfigError(`model name '${name}' is not a valid directory name`);
    }
    const dir = join(this.root, name);
    const exists = await stat(dir).then(
      (s) => s.isDirectory(),
      () => false,
    );
    if (!exists) throw new ConfigError(`model '${name}' not found in repository ${this.root}`);
    const config = await loadModelConfig(dir, name);
    const available = await this.versionsOnDisk(dir);
    const versions = selectVersions(name, config, available, pinnedVersion);
    return {
      name,
      dir,
      config,
      versions: versions.map((v) => ({ version: String(v), path: join(dir, String(v), 'model.onnx') })),
    };
  }

  private async versionsOnDisk(dir: string): Promise<number[]> {
    const entries = await readdir(dir, { withFileTypes: true });
    const versions: number[] = [];
    for (const entry of entries) {
      if (!entry.isDirectory() || !/^[1-9][0-9]*$/.test(entry.name)) continue;
      const ok = await access(join(dir, entry.name, 'model.onnx')).then(
        () => true,
        () => false,
      );
      if (ok) versions.push(Number(entry.name));
    }
    return versions.sort((a, b) => b - a);
  }
}

function selectVersions(name: string, config: ModelConfig, available: number[], pinned?: string): number[] {
  if (available.length === 0) {
    throw new ConfigError(`model '${name}': no version directory with a model.onnx (expected ${name}/1/model.onnx)`);
  }
  if (pinned !== undefined) {
    const v = Number(pinned);
    if (!available.includes(v)) {
      throw new ConfigError(`model '${name}': version ${pinned} not found (have ${available.join(', ')})`);
    }
    return [v];
  }
  const policy = config.version_policy;
  if (policy.all) return available;
  if (policy.specific) {
    const missing = policy.specific.versions.filter((v) => !available.includes(v));
    if (missing.length > 0) {
      throw new ConfigError(`model '${name}': version_policy.specific names missing versions ${missing.join(', ')}`);
    }
    return [...policy.specific.versions].sort((a, b) => b - a);
  }
  return available.slice(0, policy.latest?.num_versions ?? 1);
}
