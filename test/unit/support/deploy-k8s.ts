// The cross-checks of one built overlay, in order: structure, pods against the code, the
// endpoints file and what it needs, references between objects.
import assert from 'node:assert/strict';
import { REPO_MODELS, type Obj } from './deploy-code.js';
import { checkEndpointsFile, deploymentModels, keyEnvNames, parseEndpointsFile } from './deploy-endpoints.js';
import { find, isClusterScoped, NAMESPACE, podSpec } from './deploy-kustomize.js';
import { checkAppContainer, collectPods } from './deploy-k8s-pods.js';
import { checkReferences } from './deploy-k8s-refs.js';
import { apiEndpointsFile, checkEndpointsWiring, checkMetricsAnnotations } from './deploy-k8s-endpoints.js';

export async function checkCluster(objects: Obj[]): Promise<void> {
  const ids = objects.map((o) => `${o.kind}/${o.metadata.name}`);
  assert.equal(new Set(ids).size, ids.length, `duplicate objects: ${ids}`);
  assert.ok(find(objects, 'Namespace', NAMESPACE), 'no Namespace');
  for (const o of objects) {
    if (!isClusterScoped(o)) assert.equal(o.metadata.namespace, NAMESPACE, `${o.kind}/${o.metadata.name}`);
  }

  const pods = collectPods(objects);
  const apis = pods.filter((p) => p.app === 'api');
  assert.equal(apis.length, 1, 'one API Deployment');
  const source = apiEndpointsFile(objects, apis[0]!);
  const file = source && (await parseEndpointsFile(source.text, source.label));
  if (file) checkEndpointsFile(file, source.label);

  const ctx = {
    apiKeyEnv: new Set(file ? keyEnvNames(file) : []),
    deployments: file ? deploymentModels(file) : new Map<string, string>(),
  };
  for (const pod of pods) checkAppContainer(objects, pod, ctx);
  const served = new Set(pods.map((p) => p.env.values.MODEL));
  for (const m of REPO_MODELS) assert.ok(served.has(m), `no worker serves models/${m}`);

  checkEndpointsWiring(objects, pods, file);
  checkMetricsAnnotations(pods);
  checkReferences(objects, pods);
}

/** The containers that ask for a GPU. */
export const gpuContainers = (objects: Obj[]): Obj[] =>
  objects.flatMap((o) => podSpec(o)?.containers ?? []).filter((c: Obj) => c.resources?.limits?.['nvidia.com/gpu']);
