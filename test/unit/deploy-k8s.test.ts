// Static validation of k8s/, with no cluster: builds the kustomize overlays in-process,
// validates every object against the Kubernetes and KEDA schemas (kubernetes-models), and
// cross-checks the objects against the code (test/unit/support/deploy-*.ts says how).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { normalize } from 'node:path';
import { walk } from './support/deploy-code.js';
import { checkCluster, gpuContainers } from './support/deploy-k8s.js';
import { find, kustomize, OVERLAYS, podSpec, readYaml, usedFiles } from './support/deploy-kustomize.js';
import { validateSchemas } from './support/deploy-schemas.js';

describe('deployment: kustomize overlays', () => {
  const built = Object.fromEntries(OVERLAYS.map((dir) => [dir, kustomize(dir)]));

  it('every YAML file under k8s/ parses and is used by a kustomization', () => {
    const files = walk('k8s').filter((f) => /\.ya?ml$/.test(f));
    assert.ok(files.length > 5);
    for (const file of files) {
      readYaml(file);
      assert.ok(usedFiles.has(normalize(file)), `${file} is not referenced by any kustomization`);
    }
  });

  for (const dir of OVERLAYS) {
    it(`${dir}: every object matches its Kubernetes or KEDA schema`, () => validateSchemas(built[dir]!));
    it(`${dir}: objects, code, models and the endpoints file agree`, () => checkCluster(built[dir]!));
  }

  it('cpu-only asks for no GPU; gpu runs a worker on one', () => {
    assert.equal(gpuContainers(built['k8s/overlays/cpu-only']!).length, 0);
    assert.ok(gpuContainers(built['k8s/overlays/gpu']!).length > 0);
  });

  it('the API gets its endpoints file, keys and model store; faq/blue has its own worker', () => {
    const objects = built['k8s/overlays/cpu-only']!;
    const api = podSpec(find(objects, 'Deployment', 'api')!)!;
    const env = Object.fromEntries(api.containers[0].env.map((e: any) => [e.name, e]));
    assert.equal(env.ENDPOINTS_FILE.value, '/etc/switchyard/endpoints.yaml');
    assert.equal(env.FAQ_PRIMARY_KEY.valueFrom.secretKeyRef.name, 'switchyard-endpoint-keys');
    assert.equal(api.securityContext.fsGroup, 1000);
    const worker = podSpec(find(objects, 'Deployment', 'worker-faq-blue')!)!.containers[0];
    assert.deepEqual(
      worker.env.find((e: any) => e.name === 'DEPLOYMENT'),
      { name: 'DEPLOYMENT', value: 'faq/blue' },
    );
    const trigger = find(objects, 'ScaledObject', 'worker-faq-blue')!.spec.triggers[0];
    assert.equal(trigger.metadata.listName, 'sy:_d.faq.blue:wait');
  });

  it('the gpu overlay shares the model store (ReadWriteMany) between the API and the workers', () => {
    const claim = find(built['k8s/overlays/gpu']!, 'PersistentVolumeClaim', 'model-store')!;
    assert.deepEqual(claim.spec.accessModes, ['ReadWriteMany']);
  });
});
