// Pod-level checks of a built overlay: each workload's pod template, and each app container
// (the API or a worker) against what the code reads, serves and needs.
import assert from 'node:assert/strict';
import {
  DEFAULTS,
  ENTRY,
  ENV,
  NODE_FLAGS,
  PORT_VAR,
  REPO_MODELS,
  ROUTES,
  assertModelExists,
  deadlineSeconds,
  type App,
  type Obj,
} from './deploy-code.js';
import { find, podSpec, selects } from './deploy-kustomize.js';

/** A container's environment: values (Secret values decoded) and the names that come from Secrets. */
export interface ContainerEnv {
  values: Record<string, string>;
  secrets: Set<string>;
}

/** One app container of a workload. */
export interface AppPod {
  o: Obj;
  spec: Obj;
  c: Obj;
  app: App;
  env: ContainerEnv;
}

/** What the checks of one container need from the rest of the cluster. */
export interface PodContext {
  /** Extra variables the API may get: the key variables its endpoints file names. */
  apiKeyEnv: Set<string>;
  /** `<endpoint>/<deployment>` → model, from the API's endpoints file. */
  deployments: Map<string, string>;
}

/** The app a container runs, from its command, or undefined (Redis, init containers). */
export function appOf(c: Obj): App | undefined {
  const argv = [...(c.command ?? []), ...(c.args ?? [])];
  if (argv[0] !== 'node') return undefined;
  // node, Switchyard's own V8 flags, the entry: what every launch of an app runs.
  const at = argv.findIndex((arg) => !arg.startsWith('-') && arg !== 'node');
  const app = (Object.keys(ENTRY) as App[]).find((a) => argv[at] === ENTRY[a]);
  assert.ok(app, `${c.name}: node runs ${argv[at]}, not an app entry`);
  const flags = argv.slice(1, at);
  assert.deepEqual(flags, NODE_FLAGS, `${c.name}: node's flags ${flags.join(' ')} are not NODE_FLAGS`);
  return app;
}

function secretValue(objects: Obj[], name: string, key: string, id: string): string {
  const secret = find(objects, 'Secret', name);
  assert.ok(secret, `${id}: no Secret ${name}`);
  const value = secret.stringData?.[key] ?? secret.data?.[key];
  assert.ok(typeof value === 'string', `${id}: Secret ${name} has no key ${key}`);
  return secret.stringData?.[key] !== undefined ? value : Buffer.from(value, 'base64').toString();
}

/** A container's environment: envFrom ConfigMaps and Secrets, then env (value or valueFrom). */
export function envOf(objects: Obj[], c: Obj): ContainerEnv {
  const env: ContainerEnv = { values: {}, secrets: new Set() };
  for (const from of c.envFrom ?? []) {
    if (from.secretRef) {
      const secret = find(objects, 'Secret', from.secretRef.name);
      assert.ok(secret, `${c.name}: envFrom names a missing Secret ${from.secretRef.name}`);
      for (const key of Object.keys({ ...secret.data, ...secret.stringData })) {
        env.values[key] = secretValue(objects, from.secretRef.name, key, c.name);
        env.secrets.add(key);
      }
      continue;
    }
    const cm = find(objects, 'ConfigMap', from.configMapRef?.name);
    assert.ok(cm, `${c.name}: envFrom names a missing ConfigMap ${from.configMapRef?.name}`);
    Object.assign(env.values, cm.data);
  }
  for (const e of c.env ?? []) {
    const { secretKeyRef, configMapKeyRef } = e.valueFrom ?? {};
    env.secrets.delete(e.name);
    if (secretKeyRef) {
      env.values[e.name] = secretValue(objects, secretKeyRef.name, secretKeyRef.key, `${c.name} ${e.name}`);
      env.secrets.add(e.name);
    } else if (configMapKeyRef) {
      const value = find(objects, 'ConfigMap', configMapKeyRef.name)?.data?.[configMapKeyRef.key];
      assert.ok(
        value !== undefined,
        `${c.name} ${e.name}: no ConfigMap key ${configMapKeyRef.name}/${configMapKeyRef.key}`,
      );
      env.values[e.name] = value;
    } else {
      env.values[e.name] = e.value;
    }
  }
  return env;
}

function sleepOf(c: Obj): number {
  const cmd = c.lifecycle?.preStop?.exec?.command;
  return cmd?.[0] === 'sleep' ? Number(cmd[1]) : 0;
}

/** Pod-template checks of every workload; returns its app containers with their environments. */
export function collectPods(objects: Obj[]): AppPod[] {
  const pods: AppPod[] = [];
  for (const o of objects.filter(podSpec)) {
    const spec = podSpec(o)!;
    const labels = o.spec.template.metadata.labels;
    assert.ok(selects(o.spec.selector.matchLabels, labels), `${o.metadata.name}: selector misses its pods`);
    assert.equal(spec.securityContext?.runAsNonRoot, true, `${o.metadata.name}: runAsNonRoot`);
    for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
      const id = `${o.metadata.name}/${c.name}`;
      assert.doesNotMatch(c.image, /^switchyard(-gpu)?(:|$)/, `${id}: image not set by the overlay`);
      for (const kind of ['requests', 'limits']) {
        assert.ok(c.resources?.[kind]?.cpu && c.resources[kind].memory, `${id}: ${kind}`);
      }
      for (const v of c.volumeMounts ?? []) {
        assert.ok(spec.volumes?.some((x: Obj) => x.name === v.name) || o.spec.volumeClaimTemplates, `mount ${v.name}`);
      }
    }
    for (const v of spec.volumes ?? []) {
      if (v.configMap) assert.ok(find(objects, 'ConfigMap', v.configMap.name), `ConfigMap ${v.configMap.name}`);
      if (v.persistentVolumeClaim) assert.ok(find(objects, 'PersistentVolumeClaim', v.persistentVolumeClaim.claimName));
    }
    for (const c of spec.containers) {
      const app = appOf(c);
      if (app) pods.push({ o, spec, c, app, env: envOf(objects, c) });
    }
  }
  return pods;
}

/** Checks one app container against the code: variables, port, probes, grace period, model. */
export function checkAppContainer(objects: Obj[], pod: AppPod, ctx: PodContext): void {
  const { o, spec, c, app } = pod;
  const env = pod.env.values;
  const id = `${o.metadata.name}/${c.name}`;
  for (const name of Object.keys(env)) {
    const allowed = ENV[app].has(name) || (app === 'api' && ctx.apiKeyEnv.has(name));
    assert.ok(allowed, `${id}: the ${app} does not read ${name}`);
  }
  assert.match(env.REDIS_URL ?? '', /^redis/, `${id}: REDIS_URL unset (the distributed topology needs it)`);
  assert.ok(env.HOST === undefined || env.HOST === '0.0.0.0', `${id}: HOST must be 0.0.0.0 in a container`);
  const port = Number(env[PORT_VAR[app]] ?? DEFAULTS[app][PORT_VAR[app]]);
  const portNames = new Map<string, number>(c.ports.map((p: Obj) => [p.name, p.containerPort]));
  assert.ok([...portNames.values()].includes(port), `${id}: no containerPort ${port} (${PORT_VAR[app]})`);
  for (const probe of ['livenessProbe', 'readinessProbe'] as const) {
    assert.ok(c[probe]?.httpGet, `${id}: no HTTP ${probe}`);
  }
  for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe'].map((p) => c[p]).filter(Boolean)) {
    const { path, port: probePort } = probe.httpGet;
    assert.ok(ROUTES[app].has(path), `${id}: probe path ${path} is not a route of the ${app}`);
    assert.equal(portNames.get(probePort) ?? probePort, port, `${id}: probe port is not ${PORT_VAR[app]}`);
  }
  const model = env.MODEL ?? ctx.deployments.get(env.DEPLOYMENT ?? '');
  const deadline =
    app === 'worker' ? deadlineSeconds(model ?? '') : Math.max(...REPO_MODELS.map((m) => deadlineSeconds(m)));
  assert.ok(
    spec.terminationGracePeriodSeconds >= sleepOf(c) + deadline + 5,
    `${id}: terminationGracePeriodSeconds ${spec.terminationGracePeriodSeconds} < preStop ${sleepOf(c)} s + ` +
      `deadline ${deadline} s + 5 s to drain`,
  );
  if (app === 'worker') checkWorker(objects, pod, id);
}

function checkWorker(objects: Obj[], { spec, c, env: { values: env } }: AppPod, id: string): void {
  assert.ok(Boolean(env.MODEL) !== Boolean(env.DEPLOYMENT), `${id}: set MODEL or DEPLOYMENT (one of them)`);
  if (env.MODEL) {
    assertModelExists(env.MODEL);
    const repo = env.MODEL_REPOSITORY ?? DEFAULTS.worker.MODEL_REPOSITORY;
    const mount = c.volumeMounts?.find((m: Obj) => m.mountPath === repo);
    assert.ok(mount?.readOnly, `${id}: MODEL_REPOSITORY ${repo} is not a read-only volume mount`);
    const claim = spec.volumes.find((v: Obj) => v.name === mount.name)?.persistentVolumeClaim?.claimName;
    assert.ok(find(objects, 'PersistentVolumeClaim', claim), `${id}: model store PVC ${claim} missing`);
  }
  const gpu = Number(c.resources?.limits?.['nvidia.com/gpu'] ?? 0);
  assert.equal(env.DEVICE === 'cuda', gpu > 0, `${id}: DEVICE=cuda and a nvidia.com/gpu limit go together`);
  if (gpu > 0) {
    assert.match(c.image, /gpu/, `${id}: a GPU worker needs the GPU image`);
    assert.ok(
      spec.tolerations?.some((t: Obj) => t.key === 'nvidia.com/gpu' && t.effect === 'NoSchedule'),
      `${id}: no toleration for the GPU nodes' taint`,
    );
    assert.ok(spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution, `${id}: no GPU affinity`);
  } else {
    assert.doesNotMatch(c.image, /gpu/, `${id}: a CPU worker on the GPU image`);
  }
}
