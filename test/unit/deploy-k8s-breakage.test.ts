// The k8s checks catch what they claim to: each case breaks one thing in the built cpu-only
// overlay and expects validation to fail with a message naming it.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Obj } from './support/deploy-code.js';
import { checkCluster } from './support/deploy-k8s.js';
import { find, kustomize, podSpec } from './support/deploy-kustomize.js';
import { validateSchemas } from './support/deploy-schemas.js';

const base = kustomize('k8s/overlays/cpu-only');
const container = (x: Obj[], name: string): Obj => podSpec(find(x, 'Deployment', name)!)!.containers[0];
const envVar = (c: Obj, name: string): Obj => c.env.find((e: Obj) => e.name === name);
const worker = (x: Obj[]): Obj => container(x, 'worker-faq');
const blue = (x: Obj[]): Obj => container(x, 'worker-faq-blue');
const api = (x: Obj[]): Obj => container(x, 'api');
const annotations = (x: Obj[], name: string): Obj => find(x, 'Deployment', name)!.spec.template.metadata.annotations;
/** Edits the endpoints file inside its ConfigMap. */
const editFile = (x: Obj[], from: string | RegExp, to: string): void => {
  const data = find(x, 'ConfigMap', 'switchyard-endpoints')!.data;
  data['endpoints.yaml'] = data['endpoints.yaml'].replace(from, to);
};

const breakages: [string, RegExp, (objects: Obj[]) => void][] = [
  ['unknown variable', /does not read MODLE/, (x) => worker(x).env.push({ name: 'MODLE', value: 'faq' })],
  ['probe path', /\/healthz is not a route/, (x) => (worker(x).readinessProbe.httpGet.path = '/healthz')],
  ['schema', /worker-faq does not match its schema/, (x) => (worker(x).ports[0].containerPort = '8081')],
  ['strict fields', /unknown field livenesProbe/, (x) => (worker(x).livenesProbe = {})],
  ['model', /no models\/nope/, (x) => (envVar(worker(x), 'MODEL').value = 'nope')],
  ['KEDA list', /listName/, (x) => (find(x, 'ScaledObject', 'worker-faq')!.spec.triggers[0].metadata.listName = 'faq')],
  ['entry point', /not an app entry/, (x) => (worker(x).command[2] = 'dist/apps/worker/main.js')],
  ['node flags', /are not NODE_FLAGS/, (x) => void worker(x).command.splice(1, 1)],
  [
    'grace period',
    /terminationGracePeriodSeconds 10/,
    (x) => (podSpec(find(x, 'Deployment', 'api')!)!.terminationGracePeriodSeconds = 10),
  ],
  ['service', /selects no pods/, (x) => (find(x, 'Service', 'api')!.spec.selector = { app: 'nope' })],
  ['GPU', /DEVICE=cuda/, (x) => worker(x).env.push({ name: 'DEVICE', value: 'cuda' })],
  // The endpoints file and its keys.
  ['file path', /ENDPOINTS_FILE \/etc\/sy\/e.yaml/, (x) => (envVar(api(x), 'ENDPOINTS_FILE').value = '/etc/sy/e.yaml')],
  [
    'file key',
    /has no key endpoint.yaml/,
    (x) => (envVar(api(x), 'ENDPOINTS_FILE').value = '/etc/switchyard/endpoint.yaml'),
  ],
  [
    'file content',
    /primary_env must be an environment variable name/,
    (x) => editFile(x, 'FAQ_PRIMARY_KEY', 'faq-key'),
  ],
  [
    'file reference',
    /serves faq version 2, which the file does not register/,
    (x) => editFile(x, /(model: faq\s+version: )'1'/, "$1'2'"),
  ],
  [
    'key not in a Secret',
    /FAQ_SECONDARY_KEY \(an endpoint key\) must come from a Secret/,
    (x) => {
      const e = envVar(api(x), 'FAQ_SECONDARY_KEY');
      delete e.valueFrom;
      e.value = 'a-key-written-in-the-manifest';
    },
  ],
  [
    'key missing',
    /names FAQ_PRIMARY_KEY, which the API does not get/,
    (x) => {
      api(x).env = api(x).env.filter((e: Obj) => e.name !== 'FAQ_PRIMARY_KEY');
    },
  ],
  [
    'Secret key',
    /has no key FAQ_PRIMARY/,
    (x) => (envVar(api(x), 'FAQ_PRIMARY_KEY').valueFrom.secretKeyRef.key = 'FAQ_PRIMARY'),
  ],
  [
    'short key',
    /under 16 characters/,
    (x) => (find(x, 'Secret', 'switchyard-endpoint-keys')!.stringData.FAQ_PRIMARY_KEY = 'short'),
  ],
  [
    'seed',
    /no init container seeds faq/,
    (x) => (envVar(podSpec(find(x, 'Deployment', 'api')!)!.initContainers[0], 'MODELS').value = 'fashion'),
  ],
  [
    'read-only store',
    /MODEL_STORE \/models\/.uploads is mounted read-only/,
    (x) => {
      api(x).volumeMounts.find((m: Obj) => m.name === 'models').readOnly = true;
    },
  ],
  // The deployment worker.
  [
    'deployment',
    /DEPLOYMENT=faq\/green is not in the API's endpoints file/,
    (x) => (envVar(blue(x), 'DEPLOYMENT').value = 'faq/green'),
  ],
  ['both sources', /set MODEL or DEPLOYMENT/, (x) => blue(x).env.push({ name: 'MODEL', value: 'faq' })],
  [
    'deployment queue',
    /worker-faq-blue: KEDA listName/,
    (x) => {
      find(x, 'ScaledObject', 'worker-faq-blue')!.spec.triggers[0].metadata.listName = 'sy:faq:wait';
    },
  ],
  [
    'artifact path',
    /not mounted read-only at \/models as in the API/,
    (x) => (blue(x).volumeMounts[0].mountPath = '/data'),
  ],
  [
    'unserved deployment',
    /no worker serves the endpoint deployment faq\/blue/,
    (x) => {
      x.splice(x.indexOf(find(x, 'Deployment', 'worker-faq-blue')!), 1);
    },
  ],
  [
    'selector overlap',
    /worker-faq selects the pods of worker-faq-blue/,
    (x) => {
      find(x, 'Deployment', 'worker-faq-blue')!.spec.template.metadata.labels['switchyard.io/model'] = 'faq';
    },
  ],
  // Metrics scraping.
  [
    'scrape port',
    /prometheus.io\/port 9090 is not a declared container port/,
    (x) => (annotations(x, 'worker-faq-blue')['prometheus.io/port'] = '9090'),
  ],
  [
    'metrics port',
    /api: prometheus.io\/port is not METRICS_PORT/,
    (x) => (envVar(api(x), 'METRICS_PORT').value = '9191'),
  ],
  [
    'scrape path',
    /prometheus.io\/path \/prometheus is not a route of the api/,
    (x) => (annotations(x, 'api')['prometheus.io/path'] = '/prometheus'),
  ],
  [
    'no scrape',
    /worker-fashion: no prometheus.io\/scrape/,
    (x) => delete annotations(x, 'worker-fashion')['prometheus.io/scrape'],
  ],
];

describe('deployment: the k8s checks catch broken manifests', () => {
  it('the unbroken cpu-only overlay passes', async () => {
    validateSchemas(base);
    await checkCluster(structuredClone(base));
  });

  for (const [what, expected, breakIt] of breakages) {
    it(`${what}: ${expected.source}`, async () => {
      const objects = structuredClone(base);
      breakIt(objects);
      await assert.rejects(async () => {
        validateSchemas(objects);
        await checkCluster(objects);
      }, expected);
    });
  }
});
