// The endpoints file as the API sees it: parsed and validated by the API's own reader and DTOs
// (apps/api/src/management/endpoints-file.ts), then cross-checked against the repository.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readEndpointsFile, type EndpointsFileDto } from '../../../apps/api/src/management/endpoints-file.js';
import { REPO_MODELS } from './deploy-code.js';

export type EndpointsFile = EndpointsFileDto;

let scratch: string | undefined;
let written = 0;

/**
 * Parses an endpoints file's text with the API's reader. It reads a path, so the text (a
 * ConfigMap value, say) goes through a scratch file; its errors name `label` instead.
 */
export async function parseEndpointsFile(text: string, label: string): Promise<EndpointsFile> {
  if (!scratch) {
    const dir = mkdtempSync(join(tmpdir(), 'sy-endpoints-'));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    scratch = dir;
  }
  const path = join(scratch, `${++written}.yaml`);
  writeFileSync(path, text);
  try {
    return await readEndpointsFile(path);
  } catch (err) {
    throw new Error(`${label}: ${(err as Error).message.replace(`ENDPOINTS_FILE ${path}: `, '')}`, { cause: err });
  }
}

/** Names of the variables that hold the endpoints' keys (`keys.primary_env`, `keys.secondary_env`). */
export function keyEnvNames(file: EndpointsFile): string[] {
  return (file.endpoints ?? []).flatMap((e) => [e.keys.primary_env, e.keys.secondary_env ?? []].flat());
}

/** `<endpoint>/<deployment>` → the model it serves. */
export function deploymentModels(file: EndpointsFile): Map<string, string> {
  return new Map(
    (file.endpoints ?? []).flatMap((e) => (e.deployments ?? []).map((d) => [`${e.name}/${d.name}`, d.model] as const)),
  );
}

/** The repository models the file registers versions of (the first segment of repository_path). */
export function repositoryModels(file: EndpointsFile): string[] {
  const paths = (file.models ?? []).flatMap((m) => m.versions.map((v) => v.repository_path));
  return [...new Set(paths.map((p) => p.split('/')[0]!))];
}

/**
 * What the reader leaves to the API at start, checked here so that a bad file fails in CI
 * rather than in a crash-looping pod: registered paths exist in the repository the images
 * ship, deployments name versions the file registers, traffic and mirror name deployments.
 */
export function checkEndpointsFile(file: EndpointsFile, label: string): void {
  const versions = new Set<string>();
  for (const m of file.models ?? []) {
    for (const v of m.versions) {
      const model = v.repository_path.split('/')[0]!;
      assert.ok(
        REPO_MODELS.includes(model) && existsSync(join('models', v.repository_path, 'model.onnx')),
        `${label}: repository_path ${v.repository_path}: no models/${v.repository_path}/model.onnx`,
      );
      versions.add(`${m.name}@${v.version}`);
    }
  }
  for (const e of file.endpoints ?? []) {
    const names = (e.deployments ?? []).map((d) => d.name);
    for (const d of e.deployments ?? []) {
      assert.ok(
        versions.has(`${d.model}@${d.version}`),
        `${label}: ${e.name}/${d.name} serves ${d.model} version ${d.version}, which the file does not register`,
      );
    }
    const weights = Object.entries(e.traffic ?? {});
    for (const [name] of weights) assert.ok(names.includes(name), `${label}: ${e.name} traffic to unknown ${name}`);
    if (weights.length > 0) {
      assert.equal(
        weights.reduce((sum, [, w]) => sum + w, 0),
        100,
        `${label}: ${e.name} traffic must sum to 100`,
      );
    }
    if (e.mirror && e.mirror.percent > 0) {
      assert.ok(names.includes(e.mirror.deployment), `${label}: ${e.name} mirrors to unknown ${e.mirror.deployment}`);
    }
  }
}
