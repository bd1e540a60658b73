import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { FIXTURE_MODELS } from './processes.js';

/** The reference models (`faq`, `fashion`). */
export const REFERENCE_MODELS = resolve(process.cwd(), 'models');

/** One model of a temporary repository: a copy of `from` (a model directory) with its config patched. */
export interface ModelCopy {
  /** Name in the new repository (its directory). */
  name: string;
  /** Model directory to copy; default: the fixture of the same name. */
  from?: string;
  /** Deep-merged into the copied config (objects merge, anything else replaces). */
  patch?: Record<string, unknown>;
}

/**
 * Creates a model repository in a fresh temp directory holding patched copies of existing
 * models. The copied config is rewritten as `config.json` (the only config file). Returns the
 * directory; remove it with `removeRepo`.
 */
export async function tempRepo(models: ModelCopy[]): Promise<string> {
  const repo = await mkdtemp(join(tmpdir(), 'sy-e2e-repo-'));
  for (const m of models) {
    const from = m.from ?? join(FIXTURE_MODELS, m.name);
    const to = join(repo, m.name);
    await cp(from, to, { recursive: true });
    const configFile = (await readdir(to)).find((f) => /^config\.(ya?ml|json)$/.test(f));
    if (!configFile) throw new Error(`${from} has no config file`);
    const config = parse(await readFile(join(to, configFile), 'utf8')) as Record<string, unknown>;
    await rm(join(to, configFile));
    await writeFile(join(to, 'config.json'), JSON.stringify(deepMerge(config, m.patch ?? {}), null, 2));
  }
  return repo;
}

export async function removeRepo(repo: string | undefined): Promise<void> {
  if (repo) await rm(repo, { recursive: true, force: true });
}

function deepMerge(base: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(patch)) {
    const b = out[k];
    out[k] =
      isPlainObject(b) && isPlainObject(v)
        ? deepMerge(b as Record<string, unknown>, v as Record<string, unknown>)
        : (v as unknown);
  }
  return out;
}

function isPlainObject(v: unknown): boolean {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
