// Checks of the management wiring in a built overlay: the API's endpoints file (a ConfigMap key
// mounted read-only), the Secrets holding the keys it names, the model store the API registers
// from and uploads to, the workers of each endpoint deployment, and the metrics annotations.
import assert from 'node:assert/strict';
import { posix } from 'node:path';
import { DEFAULTS, PORT_VAR, ROUTES, type Obj } from './deploy-code.js';
import { find } from './deploy-kustomize.js';
import { keyEnvNames, repositoryModels, type EndpointsFile } from './deploy-endpoints.js';
import type { AppPod } from './deploy-k8s-pods.js';

/** The volume mount holding a path: the one with the longest mountPath above it. */
function mountFor(c: Obj, path: string): Obj | undefined {
  return (c.volumeMounts ?? [])
    .filter((m: Obj) => path === m.mountPath || path.startsWith(`${m.mountPath.replace(/\/$/, '')}/`))
    .sort((a: Obj, b: Obj) => b.mountPath.length - a.mountPath.length)[0];
}

/** The text of the API's ENDPOINTS_FILE, which must be a ConfigMap key mounted read-only. */
export function apiEndpointsFile(objects: Obj[], api: AppPod): { text: string; label: string } | undefined {
  const path = api.env.values.ENDPOINTS_FILE;
  if (!path) return undefined;
  const id = `${api.o.metadata.name}: ENDPOINTS_FILE ${path}`;
  const mount = mountFor(api.c, path);
  assert.ok(mount?.readOnly, `${id} is not in a read-only volume mount`);
  const volume = api.spec.volumes.find((v: Obj) => v.name === mount.name)?.configMap;
  assert.ok(volume, `${id} is not in a ConfigMap volume`);
  const rel = mount.subPath ?? posix.relative(mount.mountPath, path);
  assert.ok(mount.subPath === undefined || path === mount.mountPath, `${id}: subPath mount at another path`);
  const key = volume.items ? volume.items.find((i: Obj) => i.path === rel)?.key : rel;
  const text = find(objects, 'ConfigMap', volume.name)?.data?.[key ?? ''];
  assert.ok(typeof text === 'string', `${id}: ConfigMap ${volume.name} has no key ${key ?? rel}`);
  return { text, label: `ConfigMap ${volume.name} key ${key}` };
}

/** Keys, model store, seeding and deployment workers, for the API's endpoints file. */
export function checkEndpointsWiring(objects: Obj[], pods: AppPod[], file: EndpointsFile | undefined): void {
  const api = pods.find((p) => p.app === 'api')!;
  const id = api.o.metadata.name;
  const { values, secrets } = api.env;
  // The API refuses to start with AUTH on and no admin key; a key belongs in a Secret.
  const auth = values.AUTH ?? (values.REDIS_URL ? 'on' : 'off');
  if (auth === 'on')
    assert.ok(secrets.has('ADMIN_API_KEY'), `${id}: AUTH is on, but ADMIN_API_KEY is not from a Secret`);
  for (const name of file ? keyEnvNames(file) : []) {
    assert.ok(name in values, `${id}: the endpoints file names ${name}, which the API does not get`);
    assert.ok(secrets.has(name), `${id}: ${name} (an endpoint key) must come from a Secret`);
    assert.ok(values[name]!.length >= 16, `${id}: ${name}: the API refuses keys under 16 characters`);
  }

  // Registration reads MODEL_REPOSITORY and uploads write MODEL_STORE: both on a PVC, the store writable.
  const stores: Obj[] = [];
  for (const name of ['MODEL_REPOSITORY', 'MODEL_STORE'] as const) {
    const path = values[name] ?? (name === 'MODEL_STORE' ? values.MODEL_REPOSITORY : undefined);
    const mount = path === undefined ? undefined : mountFor(api.c, path);
    const claim = api.spec.volumes.find((v: Obj) => v.name === mount?.name)?.persistentVolumeClaim?.claimName;
    assert.ok(claim, `${id}: ${name} ${path ?? DEFAULTS.api[name]} is not on a mounted PVC (the model store)`);
    stores.push({ mountPath: mount!.mountPath, claim });
    if (name === 'MODEL_STORE') {
      assert.ok(!mount!.readOnly, `${id}: MODEL_STORE ${path} is mounted read-only; uploads write there`);
      assert.ok(api.spec.securityContext?.fsGroup !== undefined, `${id}: no fsGroup, so uploads cannot write`);
    }
  }

  // The versions the file registers from the repository are seeded before the API applies it.
  const [repo] = stores;
  const seeded = (api.spec.initContainers ?? [])
    .filter((c: Obj) => mountFor(c, repo!.mountPath)?.name === mountFor(api.c, repo!.mountPath)?.name)
    .flatMap((c: Obj) => (c.env ?? []).filter((e: Obj) => e.name === 'MODELS' || e.name === 'MODEL'))
    .flatMap((e: Obj) => String(e.value).split(/\s+/));
  for (const model of file ? repositoryModels(file) : []) {
    assert.ok(seeded.includes(model), `${id}: no init container seeds ${model} into the model store`);
  }

  // Each deployment has workers; they see the artifacts at the paths the API recorded.
  const deployments = new Set(
    (file?.endpoints ?? []).flatMap((e) => (e.deployments ?? []).map((d) => `${e.name}/${d.name}`)),
  );
  const served = new Set<string>();
  for (const w of pods.filter((p) => p.app === 'worker' && p.env.values.DEPLOYMENT)) {
    const wid = `${w.o.metadata.name}: DEPLOYMENT=${w.env.values.DEPLOYMENT}`;
    assert.ok(deployments.has(w.env.values.DEPLOYMENT!), `${wid} is not in the API's endpoints file`);
    served.add(w.env.values.DEPLOYMENT!);
    for (const store of stores) {
      const mount = w.c.volumeMounts?.find((m: Obj) => m.mountPath === store.mountPath);
      const claim = w.spec.volumes.find((v: Obj) => v.name === mount?.name)?.persistentVolumeClaim?.claimName;
      assert.ok(
        mount?.readOnly && claim === store.claim,
        `${wid}: the model store (PVC ${store.claim}) is not mounted read-only at ${store.mountPath} as in the API`,
      );
    }
  }
  for (const d of deployments) assert.ok(served.has(d), `no worker serves the endpoint deployment ${d}`);
}

/** Prometheus' scrape annotations name a declared port of the app, the one /metrics is served on. */
export function checkMetricsAnnotations(pods: AppPod[]): void {
  for (const { o, c, app, env } of pods) {
    const id = `${o.metadata.name}`;
    const a = o.spec.template.metadata.annotations ?? {};
    assert.equal(a['prometheus.io/scrape'], 'true', `${id}: no prometheus.io/scrape annotation`);
    const port = Number(a['prometheus.io/port']);
    assert.ok(
      c.ports.some((p: Obj) => p.containerPort === port),
      `${id}: prometheus.io/port ${a['prometheus.io/port']} is not a declared container port`,
    );
    // The API serves /metrics on METRICS_PORT when it is set (metrics-port.ts), else on PORT.
    const portVar = app === 'api' && env.values.METRICS_PORT !== undefined ? 'METRICS_PORT' : PORT_VAR[app];
    const served = Number(env.values[portVar] ?? DEFAULTS[app][portVar]);
    assert.equal(port, served, `${id}: prometheus.io/port is not ${portVar}, where /metrics is served`);
    const path = a['prometheus.io/path'] ?? '/metrics';
    const routes = portVar === 'METRICS_PORT' ? new Set(['/metrics']) : ROUTES[app];
    assert.ok(routes.has(path), `${id}: prometheus.io/path ${path} is not a route of the ${app}`);
  }
}
