// YAML reading and a small in-process kustomize (resources, file patches, images, namespace),
// enough for k8s/: no kustomize binary or cluster is needed to build the overlays.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, normalize } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { Obj } from './deploy-code.js';

export const NAMESPACE = 'switchyard';
export const OVERLAYS = ['k8s/overlays/cpu-only', 'k8s/overlays/gpu'];
const CLUSTER_SCOPED = new Set(['Namespace']);

export function readYaml(file: string): Obj[] {
  return parseAllDocuments(readFileSync(file, 'utf8'), { merge: true }).flatMap((doc) => {
    assert.deepEqual(doc.errors, [], `${file}: YAML errors`);
    const value = doc.toJS();
    return value === null ? [] : [value];
  });
}

const isObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Strategic merge, simplified: maps merge, null deletes a key, lists of named objects
 * (containers, env, volumes...) merge by name, other lists are replaced. Checked against
 * `kubectl kustomize`: same objects, though kubectl may order added list items differently.
 */
function merge(base: any, patch: any): any {
  if (Array.isArray(patch)) {
    if (!Array.isArray(base) || !patch.every((p) => isObject(p) && typeof p.name === 'string')) return patch;
    const out = [...base];
    for (const item of patch) {
      const i = out.findIndex((b) => b.name === item.name);
      if (i >= 0) out[i] = merge(out[i], item);
      else out.push(item);
    }
    return out;
  }
  if (!isObject(patch) || !isObject(base)) return patch;
  const out: Obj = { ...base };
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = key in base ? merge(base[key], value) : value;
  }
  return out;
}

export function podSpec(o: Obj): Obj | undefined {
  return o.kind === 'Deployment' || o.kind === 'StatefulSet' ? o.spec?.template?.spec : undefined;
}

/** Files a kustomization reads, to find YAML files no kustomization uses. */
export const usedFiles = new Set<string>();

/** Builds a kustomization: resources (files, directories), file patches, images, namespace. */
export function kustomize(dir: string): Obj[] {
  const file = join(dir, 'kustomization.yaml');
  usedFiles.add(normalize(file));
  const [k] = readYaml(file);
  assert.ok(k, `${file} is empty`);
  for (const key of Object.keys(k)) {
    // Anything else would be silently ignored here but not by kubectl: teach the resolver first.
    assert.ok(['apiVersion', 'kind', 'namespace', 'resources', 'patches', 'images'].includes(key), `${file}: ${key}`);
  }
  let objects: Obj[] = [];
  for (const resource of k.resources ?? []) {
    const path = join(dir, resource);
    assert.ok(existsSync(path), `${file}: resource ${resource} does not exist`);
    usedFiles.add(normalize(path));
    objects.push(...(statSync(path).isDirectory() ? kustomize(path) : readYaml(path)));
  }
  for (const { path, ...rest } of k.patches ?? []) {
    assert.deepEqual(rest, {}, `${file}: only file patches that name their target are supported`);
    const patchFile = join(dir, path);
    assert.ok(existsSync(patchFile), `${file}: patch ${path} does not exist`);
    usedFiles.add(normalize(patchFile));
    for (const patch of readYaml(patchFile)) {
      const i = objects.findIndex((o) => o.kind === patch.kind && o.metadata?.name === patch.metadata?.name);
      assert.ok(i >= 0, `${patchFile}: no ${patch.kind}/${patch.metadata?.name} to patch`);
      objects[i] = merge(objects[i], patch);
    }
  }
  for (const image of k.images ?? []) {
    let used = false;
    objects = objects.map((o) => {
      const spec = podSpec(o);
      if (!spec) return o;
      for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
        if (c.image.replace(/[:@].*$/, '') !== image.name) continue;
        c.image = `${image.newName ?? image.name}:${image.newTag ?? 'latest'}`;
        used = true;
      }
      return o;
    });
    assert.ok(used, `${file}: image ${image.name} matches no container`);
  }
  if (k.namespace) {
    for (const o of objects) if (!CLUSTER_SCOPED.has(o.kind)) o.metadata.namespace = k.namespace;
  }
  return objects;
}

export const isClusterScoped = (o: Obj): boolean => CLUSTER_SCOPED.has(o.kind);

export const find = (objects: Obj[], kind: string, name: string): Obj | undefined =>
  objects.find((o) => o.kind === kind && o.metadata.name === name);

/** Whether a label selector (matchLabels) selects these labels; an empty selector selects nothing here. */
export const selects = (selector: Obj = {}, labels: Obj = {}): boolean =>
  Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels[k] === v);
