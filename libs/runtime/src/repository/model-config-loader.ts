import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { plainToInstance } from 'class-transformer';
import { validate, type ValidationError } from 'class-validator';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from './config-error.js';
import { HANDLER_KINDS, ModelConfig } from './model-config.js';

const CONFIG_FILES = ['config.yaml', 'config.yml', 'config.json'];

/** Reads and validates `models/<name>/config.*`; throws ConfigError naming file and field. */
export async function loadModelConfig(modelDir: string, name: string): Promise<ModelConfig> {
  const { file, raw } = await readRawModelConfig(modelDir);
  return validateModelConfig(raw, file, name);
}

/** The config file of a model directory, parsed but not validated (the registry keeps it raw). */
export async function readRawModelConfig(modelDir: string): Promise<{ file: string; raw: unknown }> {
  const entries = await readdir(modelDir);
  const found = CONFIG_FILES.filter((f) => entries.includes(f));
  if (found.length === 0) {
    throw new ConfigError(`${modelDir}: no config file (expected one of ${CONFIG_FILES.join(', ')})`);
  }
  if (found.length > 1) {
    throw new ConfigError(`${modelDir}: more than one config file (${found.join(', ')}); keep one`);
  }
  const file = join(modelDir, found[0]!);
  return { file, raw: await parseConfigFile(file) };
}

async function parseConfigFile(file: string): Promise<unknown> {
  const text = await readFile(file, 'utf8');
  try {
    return file.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new ConfigError(`${file}: cannot parse: ${(err as Error).message}`);
  }
}

/** Validates an already parsed config object; `file` only labels the errors. */
export async function validateModelConfig(raw: unknown, file: string, name: string): Promise<ModelConfig> {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError(`${file}: the config must be a mapping of fields`);
  }
  // `handler:` with its keys commented out parses as null: treat it as absent (defaults).
  const present = Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== null));
  const config = plainToInstance(ModelConfig, present, { exposeDefaultValues: true });
  const errors = await validate(config, { whitelist: true, forbidNonWhitelisted: true });
  const problems = errors.flatMap((e) => describe(e, ''));
  if (config.name !== undefined && config.name !== name) {
    problems.push(`name: '${config.name}' differs from the directory name '${name}'`);
  }
  const kind = config.handler.kind ?? 'tensor';
  if (!(HANDLER_KINDS as readonly string[]).includes(kind)) {
    problems.push(`handler.kind: '${String(kind)}' is not one of ${HANDLER_KINDS.join(', ')}`);
  }
  config.handler = { ...config.handler, kind };
  const policies = Object.keys(config.version_policy).filter(
    (k) => config.version_policy[k as keyof typeof config.version_policy] !== undefined,
  );
  if (policies.length > 1)
    problems.push(`version_policy: set one of latest, all, specific (got ${policies.join(', ')})`);
  if (problems.length > 0) {
    throw new ConfigError(`${file}: invalid model config:\n  - ${problems.join('\n  - ')}`);
  }
  return config;
}

function describe(error: ValidationError, prefix: string): string[] {
  const path = prefix ? `${prefix}.${error.property}` : error.property;
  const own = Object.values(error.constraints ?? {}).map((msg) => `${path}: ${msg}`);
  return [...own, ...(error.children ?? []).flatMap((child) => describe(child, path))];
}
