// Cross-checks of a (merged) compose stack against the code, the models, the Dockerfile and
// the endpoints file it mounts: what `docker compose up` would otherwise find out at run time.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { DEFAULTS, ENV, PORT_VAR, REPO_MODELS, ROUTES, assertModelExists, type Obj } from './deploy-code.js';
import { dotEnvExample, parseMount, type Compose, type Mount } from './deploy-compose.js';
import { createsOwnedDir, dockerStages, RUNTIME_STAGES } from './deploy-docker.js';
import { checkEndpointsFile, keyEnvNames, parseEndpointsFile, type EndpointsFile } from './deploy-endpoints.js';
import { appOf } from './deploy-k8s-pods.js';

const mounts = (svc: Obj): Mount[] => (svc.volumes ?? []).map(parseMount);

export async function checkComposeStack(compose: Compose): Promise<void> {
  const { stages } = dockerStages();
  const apps = Object.entries(compose.services).filter(([name]) => name !== 'redis');
  const apis = apps.filter(([, svc]) => appOf({ name: 'api', command: svc.command }) === 'api');
  assert.equal(apis.length, 1, 'one API service');
  const [apiName, api] = apis[0]!;
  const apiEnv: Record<string, string> = api.environment;

  // The endpoints file: a read-only bind mount of a repository file, parsed by the API's reader.
  let file: EndpointsFile | undefined;
  if (apiEnv.ENDPOINTS_FILE) {
    const mount = mounts(api).find((m) => m.target === apiEnv.ENDPOINTS_FILE);
    assert.ok(mount?.bind && mount.readOnly, `${apiName}: ENDPOINTS_FILE is not a read-only bind mount`);
    assert.ok(existsSync(mount.source), `${apiName}: ENDPOINTS_FILE source ${mount.source} does not exist`);
    file = await parseEndpointsFile(readFileSync(mount.source, 'utf8'), mount.source);
    checkEndpointsFile(file, mount.source);
  }
  const keyEnv = file ? keyEnvNames(file) : [];
  const dotEnv = dotEnvExample();
  const auth = apiEnv.AUTH ?? (apiEnv.REDIS_URL ? 'on' : 'off');
  for (const name of [...keyEnv, ...(auth === 'on' ? ['ADMIN_API_KEY'] : [])]) {
    assert.ok(
      compose.fromDotEnv.has(`${apiName}/${name}`),
      `${apiName}: ${name} must come from .env (\${${name}:?...})`,
    );
  }
  for (const name of compose.interpolated) {
    assert.equal(dotEnv.get(name), '', `.env.example must list ${name}, with no value`);
  }

  // The repository (read-only bind of ./models) and the upload store (a writable named volume).
  const repo = mounts(api).find((m) => m.target === (apiEnv.MODEL_REPOSITORY ?? DEFAULTS.api.MODEL_REPOSITORY));
  assert.ok(repo?.bind && repo.readOnly && repo.source === './models', `${apiName}: MODEL_REPOSITORY is not ./models`);
  const store = mounts(api).find((m) => m.target === (apiEnv.MODEL_STORE ?? repo.target));
  assert.ok(store && !store.bind && !store.readOnly, `${apiName}: MODEL_STORE is not a writable named volume`);
  assert.ok(store.source in compose.volumes, `volume ${store.source} is not declared`);
  for (const name of RUNTIME_STAGES) {
    const stage = stages.find((s) => s.name === name)!;
    assert.ok(createsOwnedDir(stage, store.target), `Dockerfile ${name}: no ${store.target} owned by uid 1000`);
  }

  const models = new Set<string>();
  const deployments = new Set<string>();
  for (const [name, svc] of apps) {
    const app = appOf({ name, command: svc.command });
    assert.ok(app, `${name}: command runs no app`);
    assert.ok(stages.some((s) => s.name === svc.build?.target) && svc.build.context === '.', `${name}: build target`);
    assert.equal(svc.image, api.image, `${name}: one image for all the app services`);
    const env: Record<string, string> = svc.environment;
    for (const key of Object.keys(env)) {
      const allowed = ENV[app].has(key) || (app === 'api' && keyEnv.includes(key));
      assert.ok(allowed, `${name}: the ${app} does not read ${key}`);
    }
    assert.equal(new URL(env.REDIS_URL!).hostname, 'redis', `${name}: REDIS_URL`);
    assert.equal(svc.depends_on?.redis?.condition, 'service_healthy', `${name}: waits for a healthy Redis`);
    const port = Number(env[PORT_VAR[app]] ?? DEFAULTS[app][PORT_VAR[app]]);
    const url = new URL(svc.healthcheck.test.at(-1));
    assert.deepEqual(svc.healthcheck.test.slice(0, 3), ['CMD', 'node', 'docker/healthcheck.mjs']);
    assert.ok(ROUTES[app].has(url.pathname), `${name}: healthcheck ${url.pathname} is not a route`);
    assert.equal(Number(url.port), port, `${name}: healthcheck port`);
    if (app === 'api') assert.deepEqual(svc.ports, [`127.0.0.1:${port}:${port}`]);
    if (app !== 'worker') continue;

    assert.ok(Boolean(env.MODEL) !== Boolean(env.DEPLOYMENT), `${name}: set MODEL or DEPLOYMENT (one of them)`);
    // Registered artifacts are recorded as absolute paths: same sources at the same targets.
    for (const m of [repo, store]) {
      assert.ok(
        mounts(svc).some((w) => w.source === m.source && w.target === m.target && w.readOnly),
        `${name}: does not mount ${m.source} read-only at ${m.target} as the API does`,
      );
    }
    if (env.MODEL) {
      assertModelExists(env.MODEL);
      models.add(env.MODEL);
      assert.equal(env.MODEL_REPOSITORY, repo.target, `${name}: MODEL_REPOSITORY`);
    } else {
      const known = (file?.endpoints ?? []).flatMap((e) => (e.deployments ?? []).map((d) => `${e.name}/${d.name}`));
      assert.ok(known.includes(env.DEPLOYMENT!), `${name}: DEPLOYMENT=${env.DEPLOYMENT} is not in the endpoints file`);
      deployments.add(env.DEPLOYMENT!);
      // A healthy API has applied the endpoints file; before that the worker would refuse to start.
      assert.equal(svc.depends_on?.[apiName]?.condition, 'service_healthy', `${name}: waits for a healthy API`);
    }
  }
  assert.deepEqual([...models].sort(), [...REPO_MODELS].sort(), 'one worker per model in models/');
  for (const e of file?.endpoints ?? []) {
    for (const d of e.deployments ?? []) {
      assert.ok(deployments.has(`${e.name}/${d.name}`), `no worker serves the endpoint deployment ${e.name}/${d.name}`);
    }
  }
}
