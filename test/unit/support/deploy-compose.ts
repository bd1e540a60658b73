// Docker Compose files as compose reads them, for the subset this repository uses: several
// files merged in order, and `${NAME:?message}` interpolation from an untracked .env.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Obj } from './deploy-code.js';
import { readYaml } from './deploy-kustomize.js';

export interface Mount {
  source: string;
  target: string;
  readOnly: boolean;
  /** A bind mount of a repository path (as opposed to a named volume). */
  bind: boolean;
}

export interface Compose {
  services: Record<string, Obj>;
  volumes: Record<string, unknown>;
  /** `service/VARIABLE` pairs whose value comes from .env (or the shell) through `${NAME:?...}`. */
  fromDotEnv: Set<string>;
  /** Every variable a `${...}` names. */
  interpolated: Set<string>;
}

export function parseMount(spec: string): Mount {
  const [source = '', target = '', mode] = spec.split(':');
  return { source, target, readOnly: mode === 'ro', bind: /^[./]/.test(source) };
}

/** Compose's merge of a later file into a service: maps merge, volumes by target, the rest is replaced. */
function mergeService(base: Obj, override: Obj): Obj {
  const out: Obj = { ...base };
  for (const [key, value] of Object.entries(override)) {
    if (key === 'environment' || key === 'depends_on') {
      assert.ok(!Array.isArray(value), `use the mapping form of ${key}`);
      out[key] = { ...base[key], ...value };
    } else if (key === 'volumes') {
      const byTarget = new Map<string, string>(
        [...(base.volumes ?? []), ...value].map((v) => [parseMount(v).target, v]),
      );
      out.volumes = [...byTarget.values()];
    } else {
      out[key] = value;
    }
  }
  return out;
}

/**
 * Resolves `${NAME:?message}` (required, from .env) in a service's environment, recording where
 * values come from. Other forms (`${NAME}`, `${NAME:-default}`) would start with an empty or a
 * committed value, so they are refused.
 */
function interpolate(compose: Compose, name: string, svc: Obj): void {
  for (const [key, value] of Object.entries(svc.environment ?? {})) {
    if (typeof value !== 'string' || !value.includes('$')) continue;
    const m = /^\$\{(\w+):\?[^}]+\}$/.exec(value);
    assert.ok(m, `${name}: ${key}: use \${NAME:?message} (required, from .env), not ${value}`);
    compose.interpolated.add(m[1]!);
    compose.fromDotEnv.add(`${name}/${key}`);
    svc.environment[key] = `<${m[1]} from .env>`;
  }
}

/** Reads and merges compose files in order, as `docker compose -f a -f b` does. */
export function loadCompose(files: string[]): Compose {
  return composeFrom(
    files.map((file) => {
      const [doc] = readYaml(file);
      assert.ok(doc, `${file} is empty`);
      return doc;
    }),
  );
}

/** Merges parsed compose documents in order. */
export function composeFrom(docs: Obj[]): Compose {
  const compose: Compose = { services: {}, volumes: {}, fromDotEnv: new Set(), interpolated: new Set() };
  for (const doc of structuredClone(docs)) {
    for (const [name, svc] of Object.entries<Obj>(doc.services ?? {})) {
      compose.services[name] = compose.services[name] ? mergeService(compose.services[name], svc) : svc;
    }
    Object.assign(compose.volumes, doc.volumes ?? {});
  }
  for (const [name, svc] of Object.entries(compose.services)) interpolate(compose, name, svc);
  return compose;
}

/** The variables .env.example lists, with their committed values (which must be empty for keys). */
export function dotEnvExample(): Map<string, string> {
  const lines = readFileSync('.env.example', 'utf8').split('\n');
  return new Map(
    lines
      .map((l) => /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(l.trim()))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => [m[1]!, m[2]!]),
  );
}
