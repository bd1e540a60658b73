// Static validation of the deployment files (Dockerfile, .dockerignore, docker-compose.yml,
// k8s/), with no Docker engine or cluster: builds the kustomize overlays in-process, validates
// every object against the Kubernetes and KEDA schemas (kubernetes-models), and cross-checks
// the files against the code: env names, routes, ports, entry points, models, BullMQ keys.
// The env classes use class-transformer's @Type, which needs the Reflect metadata API.
import 'reflect-metadata';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, normalize, relative } from 'node:path';
import { QueueKeys } from 'bullmq';
import { getMetadataStorage } from 'class-validator';
import { parse, parseAllDocuments } from 'yaml';
// One module per kind: the package indexes load every kind's schema, which takes seconds.
import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1/Ingress';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import { Service } from 'kubernetes-models/v1/Service';
import { ApiEnv, WorkerEnv } from '../../libs/runtime/src/config/env.js';
import { QueuePolicyConfig } from '../../libs/runtime/src/repository/model-config.js';
import { queueNameFor } from '../../libs/runtime/src/transport/redis-keys.js';

type Obj = Record<string, any>;
type App = 'api' | 'worker';

const NAMESPACE = 'switchyard';
const OVERLAYS = ['k8s/overlays/cpu-only', 'k8s/overlays/gpu'];
const ENTRY: Record<App, string> = { api: 'dist/apps/api/src/main.js', worker: 'dist/apps/worker/src/main.js' };
/** Models that are not in models/ but that a tool of the repository writes. */
const TOOL_MODELS: Record<string, string> = { resnet50: 'tools/export_resnet.py', resnet152: 'tools/export_resnet.py' };

// ---------------------------------------------------------------- facts taken from the code

/** The variables an app reads: the properties its env class validates. */
function envNames(cls: new () => object): Set<string> {
  const metas = getMetadataStorage().getTargetValidationMetadatas(cls, '', true, false);
  return new Set(metas.map((m) => m.propertyName));
}
const ENV: Record<App, Set<string>> = { api: envNames(ApiEnv), worker: envNames(WorkerEnv) };
const DEFAULTS: Record<App, Obj> = { api: new ApiEnv(), worker: new WorkerEnv() };
const PORT_VAR: Record<App, 'PORT' | 'HEALTH_PORT'> = { api: 'PORT', worker: 'HEALTH_PORT' };

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

/** Routes of an app, read from its controllers' @Controller and @Get (or other method) decorators. */
function getRoutes(app: App, methods = 'Get'): Set<string> {
  const routes = new Set<string>();
  for (const file of walk(`apps/${app}/src`).filter((f) => f.endsWith('.controller.ts'))) {
    const src = readFileSync(file, 'utf8');
    const prefix = /@Controller\(\s*'([^']*)'\s*\)/.exec(src)?.[1] ?? '';
    for (const m of src.matchAll(new RegExp(`@(?:${methods})\\(\\s*(?:'([^']*)')?\\s*\\)`, 'g'))) {
      routes.add('/' + [prefix, m[1]].filter(Boolean).join('/'));
    }
  }
  return routes;
}
const ROUTES: Record<App, Set<string>> = { api: getRoutes('api'), worker: getRoutes('worker') };

function modelConfig(model: string): Obj | undefined {
  const file = ['config.yaml', 'config.yml', 'config.json'].map((f) => join('models', model, f)).find(existsSync);
  return file ? parse(readFileSync(file, 'utf8')) : undefined;
}

/** Asserts a worker's MODEL can be served: in models/ with config and an ONNX file, or made by a tool. */
function assertModelExists(model: string): void {
  if (!existsSync(join('models', model))) {
    const tool = TOOL_MODELS[model];
    assert.ok(tool, `MODEL=${model}: no models/${model}, and no tool of the repository makes it`);
    assert.match(readFileSync(tool, 'utf8'), new RegExp(`"${model}"`), `${tool} does not make ${model}`);
    return;
  }
  assert.ok(modelConfig(model), `models/${model} has no config.yaml`);
  const versions = readdirSync(join('models', model)).filter((d) => /^[1-9][0-9]*$/.test(d));
  assert.ok(
    versions.some((v) => existsSync(join('models', model, v, 'model.onnx'))),
    `models/${model} has no <version>/model.onnx`,
  );
}

/** A model's request deadline in seconds (queue_policy.default_timeout_ms). */
function deadlineSeconds(model: string): number {
  const fromTool = TOOL_MODELS[model] && /default_timeout_ms: (\d+)/.exec(readFileSync(TOOL_MODELS[model], 'utf8'));
  const ms = modelConfig(model)?.queue_policy?.default_timeout_ms ?? (fromTool ? Number(fromTool[1]) : undefined);
  return (ms ?? new QueuePolicyConfig().default_timeout_ms) / 1000;
}
const REPO_MODELS = readdirSync('models').filter((m) => modelConfig(m));

// ---------------------------------------------------------------- YAML and kustomize

function readYaml(file: string): Obj[] {
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

const CLUSTER_SCOPED = new Set(['Namespace']);
/** Files a kustomization reads, to find YAML files no kustomization uses. */
const usedFiles = new Set<string>();

/** Builds a kustomization: resources (files, directories), file patches, images, namespace. */
function kustomize(dir: string): Obj[] {
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

function podSpec(o: Obj): Obj | undefined {
  return o.kind === 'Deployment' || o.kind === 'StatefulSet' ? o.spec?.template?.spec : undefined;
}

// ---------------------------------------------------------------- schema validation

const SCHEMAS: Record<string, new (data: any) => { validate(): void }> = {
  'v1/Namespace': Namespace,
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'v1/PersistentVolumeClaim': PersistentVolumeClaim,
  'apps/v1/Deployment': Deployment,
  'apps/v1/StatefulSet': StatefulSet,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'networking.k8s.io/v1/Ingress': Ingress,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'keda.sh/v1alpha1/ScaledObject': ScaledObject,
};
// The schemas accept unknown fields, which kubectl's strict validation refuses: list them here.
const CONTAINER_FIELDS = new Set(
  `args command env envFrom image imagePullPolicy lifecycle livenessProbe name ports readinessProbe
   resizePolicy resources restartPolicy securityContext startupProbe stdin stdinOnce
   terminationMessagePath terminationMessagePolicy tty volumeDevices volumeMounts workingDir`.split(/\s+/),
);
const POD_FIELDS = new Set(
  `activeDeadlineSeconds affinity automountServiceAccountToken containers dnsConfig dnsPolicy
   enableServiceLinks hostAliases hostIPC hostNetwork hostPID hostUsers hostname imagePullSecrets
   initContainers nodeName nodeSelector os overhead preemptionPolicy priority priorityClassName
   readinessGates resourceClaims restartPolicy runtimeClassName schedulerName schedulingGates
   securityContext serviceAccountName setHostnameAsFQDN shareProcessNamespace subdomain
   terminationGracePeriodSeconds tolerations topologySpreadConstraints volumes`.split(/\s+/),
);

function validateSchemas(objects: Obj[]): void {
  for (const o of objects) {
    const id = `${o.kind}/${o.metadata?.name}`;
    const Model = SCHEMAS[`${o.apiVersion}/${o.kind}`];
    assert.ok(Model, `${id}: no schema for ${o.apiVersion} ${o.kind}; add it to SCHEMAS`);
    assert.doesNotThrow(() => new Model(o).validate(), `${id} does not match its schema`);
    const spec = podSpec(o);
    if (!spec) continue;
    for (const key of Object.keys(spec)) assert.ok(POD_FIELDS.has(key), `${id}: unknown pod field ${key}`);
    for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
      for (const key of Object.keys(c)) assert.ok(CONTAINER_FIELDS.has(key), `${id}/${c.name}: unknown field ${key}`);
    }
  }
}

// ---------------------------------------------------------------- cross-checks

const find = (objects: Obj[], kind: string, name: string) =>
  objects.find((o) => o.kind === kind && o.metadata.name === name);
const selects = (selector: Obj = {}, labels: Obj = {}) =>
  Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels[k] === v);

/** The app a container runs, from its command, or undefined (Redis, init containers). */
function appOf(c: Obj): App | undefined {
  const argv = [...(c.command ?? []), ...(c.args ?? [])];
  const app = (Object.keys(ENTRY) as App[]).find((a) => argv[0] === 'node' && argv[1] === ENTRY[a]);
  if (argv[0] === 'node') assert.ok(app, `${c.name}: node runs ${argv[1]}, not an app entry`);
  return app;
}

/** A container's environment: envFrom ConfigMaps, then env. */
function envOf(objects: Obj[], c: Obj): Record<string, string> {
  const env: Record<string, string> = {};
  for (const from of c.envFrom ?? []) {
    const cm = find(objects, 'ConfigMap', from.configMapRef?.name);
    assert.ok(cm, `${c.name}: envFrom names a missing ConfigMap ${from.configMapRef?.name}`);
    Object.assign(env, cm.data);
  }
  for (const e of c.env ?? []) env[e.name] = e.value;
  return env;
}

function sleepOf(c: Obj): number {
  const cmd = c.lifecycle?.preStop?.exec?.command;
  return cmd?.[0] === 'sleep' ? Number(cmd[1]) : 0;
}

/** Checks one app container of a pod against the code. Returns its environment. */
function checkAppContainer(objects: Obj[], o: Obj, spec: Obj, c: Obj, app: App): Record<string, string> {
  const id = `${o.metadata.name}/${c.name}`;
  const env = envOf(objects, c);
  for (const name of Object.keys(env)) assert.ok(ENV[app].has(name), `${id}: the ${app} does not read ${name}`);
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
  const deadline =
    app === 'worker' ? deadlineSeconds(env.MODEL ?? '') : Math.max(...REPO_MODELS.map((m) => deadlineSeconds(m)));
  assert.ok(
    spec.terminationGracePeriodSeconds >= sleepOf(c) + deadline + 5,
    `${id}: terminationGracePeriodSeconds ${spec.terminationGracePeriodSeconds} < preStop ${sleepOf(c)} s + ` +
      `deadline ${deadline} s + 5 s to drain`,
  );
  if (app === 'worker') {
    assert.ok(env.MODEL, `${id}: MODEL unset`);
    assertModelExists(env.MODEL);
    const repo = env.MODEL_REPOSITORY ?? DEFAULTS.worker.MODEL_REPOSITORY;
    const mount = c.volumeMounts?.find((m: Obj) => m.mountPath === repo);
    assert.ok(mount?.readOnly, `${id}: MODEL_REPOSITORY ${repo} is not a read-only volume mount`);
    const volume = spec.volumes.find((v: Obj) => v.name === mount.name);
    const claim = volume?.persistentVolumeClaim?.claimName;
    assert.ok(find(objects, 'PersistentVolumeClaim', claim), `${id}: model store PVC ${claim} missing`);
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
  return env;
}

/** Checks a built overlay: structure, references between objects, and the code's facts. */
function checkCluster(objects: Obj[]): void {
  const ids = objects.map((o) => `${o.kind}/${o.metadata.name}`);
  assert.equal(new Set(ids).size, ids.length, `duplicate objects: ${ids}`);
  assert.ok(find(objects, 'Namespace', NAMESPACE), 'no Namespace');
  for (const o of objects) {
    if (!CLUSTER_SCOPED.has(o.kind)) assert.equal(o.metadata.namespace, NAMESPACE, `${o.kind}/${o.metadata.name}`);
  }
  const workloads = objects.filter(podSpec);
  const apps: Record<App, Obj[]> = { api: [], worker: [] };
  for (const o of workloads) {
    const spec = podSpec(o)!;
    const labels = o.spec.template.metadata.labels;
    assert.ok(selects(o.spec.selector.matchLabels, labels), `${o.metadata.name}: selector misses its pods`);
    assert.equal(spec.securityContext?.runAsNonRoot, true, `${o.metadata.name}: runAsNonRoot`);
    for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
      assert.doesNotMatch(
        c.image,
        /^switchyard(-gpu)?(:|$)/,
        `${o.metadata.name}/${c.name}: image not set by the overlay`,
      );
      for (const kind of ['requests', 'limits']) {
        assert.ok(c.resources?.[kind]?.cpu && c.resources[kind].memory, `${o.metadata.name}/${c.name}: ${kind}`);
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
      if (app) apps[app].push({ o, env: checkAppContainer(objects, o, spec, c, app) });
    }
  }
  assert.equal(apps.api.length, 1, 'one API Deployment');
  const served = new Set(apps.worker.map((w) => w.env.MODEL));
  for (const m of REPO_MODELS) assert.ok(served.has(m), `no worker serves models/${m}`);

  // Services, Ingress, autoscalers, disruption budgets point at what exists.
  for (const svc of objects.filter((o) => o.kind === 'Service')) {
    const pods = workloads.filter((w) => selects(svc.spec.selector, w.spec.template.metadata.labels));
    assert.ok(pods.length > 0, `Service ${svc.metadata.name} selects no pods`);
    for (const p of svc.spec.ports) {
      const ports = pods.flatMap((w) => podSpec(w)!.containers.flatMap((c: Obj) => c.ports ?? []));
      assert.ok(
        ports.some((cp: Obj) => cp.name === p.targetPort || cp.containerPort === p.targetPort),
        p.name,
      );
    }
  }
  const ingresses = objects.filter((o) => o.kind === 'Ingress');
  assert.ok(ingresses.length > 0, 'no Ingress');
  for (const ing of ingresses) {
    const a = ing.metadata.annotations ?? {};
    assert.ok(a['cert-manager.io/cluster-issuer'], 'Ingress: cert-manager cluster-issuer annotation');
    assert.equal(a['nginx.ingress.kubernetes.io/force-ssl-redirect'], 'true', 'Ingress: HTTP -> HTTPS redirect');
    const tlsHosts = ing.spec.tls.flatMap((t: Obj) => t.hosts);
    const apiEnv = apps.api[0]!.env;
    const bodyLimit = Number(apiEnv.BODY_LIMIT_BYTES ?? DEFAULTS.api.BODY_LIMIT_BYTES);
    const [, size, unit] = /^(\d+)([kmg]?)$/.exec(a['nginx.ingress.kubernetes.io/proxy-body-size'] ?? '') ?? [];
    const bytes = Number(size) * 1024 ** ' kmg'.indexOf(unit || ' ');
    assert.ok(bytes >= bodyLimit, `Ingress proxy-body-size below BODY_LIMIT_BYTES ${bodyLimit}`);
    for (const rule of ing.spec.rules) {
      assert.ok(tlsHosts.includes(rule.host), `Ingress host ${rule.host} has no TLS`);
      for (const { backend } of rule.http.paths) {
        const svc = find(objects, 'Service', backend.service.name);
        assert.ok(
          svc?.spec.ports.some((p: Obj) => p.name === backend.service.port.name),
          'Ingress backend port',
        );
        assert.ok(selects(svc!.spec.selector, apps.api[0]!.o.spec.template.metadata.labels), 'Ingress -> API pods');
      }
      const prefixes = rule.http.paths.map((p: Obj) => p.path);
      for (const route of getRoutes('api', 'Get|Post|Put|Delete')) {
        assert.ok(
          prefixes.some((p: string) => route.startsWith(p)),
          `Ingress does not expose ${route}`,
        );
      }
    }
  }
  const scalers = objects.filter((o) => o.kind === 'HorizontalPodAutoscaler' || o.kind === 'ScaledObject');
  const scaled = new Set<string>();
  for (const s of scalers) {
    const target = s.spec.scaleTargetRef.name;
    assert.ok(find(objects, 'Deployment', target), `${s.kind} ${s.metadata.name}: no Deployment ${target}`);
    assert.ok(!scaled.has(target), `${target} has two autoscalers`);
    scaled.add(target);
  }
  for (const { o } of [...apps.api, ...apps.worker]) {
    assert.ok(scaled.has(o.metadata.name), `${o.metadata.name} has no autoscaler`);
    assert.equal(o.spec.replicas, undefined, `${o.metadata.name}: replicas would fight its autoscaler`);
    const labels = o.spec.template.metadata.labels;
    const pdbs = objects.filter(
      (p) => p.kind === 'PodDisruptionBudget' && selects(p.spec.selector.matchLabels, labels),
    );
    assert.equal(pdbs.length, 1, `${o.metadata.name}: one PodDisruptionBudget`);
  }

  // KEDA: one redis trigger per worker, on the list BullMQ keeps the model's waiting jobs in.
  for (const { o, env } of apps.worker) {
    const so = objects.find((s) => s.kind === 'ScaledObject' && s.spec.scaleTargetRef.name === o.metadata.name);
    assert.ok(so, `${o.metadata.name}: no ScaledObject`);
    assert.ok(so.spec.minReplicaCount >= 1, `${o.metadata.name}: minReplicaCount >= 1 keeps a warm worker`);
    const [trigger] = so.spec.triggers;
    assert.equal(trigger.type, 'redis');
    const prefix = env.REDIS_PREFIX ?? DEFAULTS.worker.REDIS_PREFIX;
    const waitList = new QueueKeys(prefix).toKey(queueNameFor(env.MODEL!), 'wait');
    assert.equal(trigger.metadata.listName, waitList, `${o.metadata.name}: KEDA listName is not BullMQ's wait list`);
    assert.match(trigger.metadata.listLength, /^[1-9][0-9]*$/);
    const url = new URL(env.REDIS_URL!);
    const [host, port] = trigger.metadata.address.split(':');
    assert.equal(host, `${url.hostname}.${NAMESPACE}.svc.cluster.local`, 'KEDA reads the Redis the worker uses');
    assert.equal(port, url.port || '6379');
    const redisService = find(objects, 'Service', url.hostname);
    assert.ok(
      redisService?.spec.ports.some((p: Obj) => p.port === Number(port)),
      `no Service ${url.host}`,
    );
  }

  // The dev Redis keeps jobs: AOF and no eviction.
  const redis = find(objects, 'StatefulSet', 'redis');
  const cm = find(objects, 'ConfigMap', podSpec(redis!)!.volumes.find((v: Obj) => v.configMap).configMap.name);
  assert.match(cm!.data['redis.conf'], /^appendonly yes$/m);
  assert.match(cm!.data['redis.conf'], /^maxmemory-policy noeviction$/m);
}

const gpuContainers = (objects: Obj[]) =>
  objects.flatMap((o) => podSpec(o)?.containers ?? []).filter((c: Obj) => c.resources?.limits?.['nvidia.com/gpu']);

// ---------------------------------------------------------------- Dockerfile

interface Stage {
  name: string;
  from: string;
  lines: string[];
}

function dockerStages(): { args: Record<string, string>; stages: Stage[] } {
  const lines = readFileSync('Dockerfile', 'utf8')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const args: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const line of lines) {
    const from = /^FROM\s+(\S+)\s+AS\s+(\S+)$/i.exec(line);
    const arg = /^ARG\s+(\w+)=(\S+)$/.exec(line);
    if (from)
      stages.push({ from: from[1]!.replace(/\$\{(\w+)\}/g, (_, a) => args[a] ?? ''), name: from[2]!, lines: [] });
    else if (arg && stages.length === 0) args[arg[1]!] = arg[2]!;
    else stages.at(-1)?.lines.push(line);
  }
  return { args, stages };
}

/** .dockerignore semantics, enough for this file: last match wins, a match on a parent counts. */
function inBuildContext(path: string): boolean {
  const patterns = readFileSync('.dockerignore', 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  let included = true;
  for (const p of patterns) {
    const negated = p.startsWith('!');
    const glob = negated ? p.slice(1) : p;
    const re = new RegExp(
      '^' +
        glob
          .replace(/[.+^$()|[\]]/g, '\\$&')
          .replace(/\*\*/g, '\0')
          .replace(/\*/g, '[^/]*')
          .replace(/\0/g, '.*') +
        '(/.*)?$',
    );
    if (re.test(path)) included = negated;
  }
  return included;
}

// ---------------------------------------------------------------- tests

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
    it(`${dir}: objects, code and models agree`, () => checkCluster(built[dir]!));
  }

  it('cpu-only asks for no GPU; gpu runs a worker on one', () => {
    assert.equal(gpuContainers(built['k8s/overlays/cpu-only']!).length, 0);
    assert.ok(gpuContainers(built['k8s/overlays/gpu']!).length > 0);
  });

  it('the checks catch broken manifests', () => {
    const worker = (x: Obj[]): Obj => podSpec(find(x, 'Deployment', 'worker-faq')!)!.containers[0];
    const breakages: [RegExp, (objects: Obj[]) => void][] = [
      [/does not read MODLE/, (x) => worker(x).env.push({ name: 'MODLE', value: 'faq' })],
      [/\/healthz is not a route/, (x) => (worker(x).readinessProbe.httpGet.path = '/healthz')],
      [/worker-faq does not match its schema/, (x) => (worker(x).ports[0].containerPort = '8081')],
      [/unknown field livenesProbe/, (x) => (worker(x).livenesProbe = {})],
      [/no models\/nope/, (x) => (worker(x).env.find((e: Obj) => e.name === 'MODEL').value = 'nope')],
      [/listName/, (x) => (find(x, 'ScaledObject', 'worker-faq')!.spec.triggers[0].metadata.listName = 'faq')],
      [/not an app entry/, (x) => (worker(x).command[1] = 'dist/apps/worker/main.js')],
      [
        /terminationGracePeriodSeconds 10/,
        (x) => (podSpec(find(x, 'Deployment', 'api')!)!.terminationGracePeriodSeconds = 10),
      ],
      [/selects no pods/, (x) => (find(x, 'Service', 'api')!.spec.selector = { app: 'nope' })],
      [/DEVICE=cuda/, (x) => worker(x).env.push({ name: 'DEVICE', value: 'cuda' })],
    ];
    for (const [expected, breakIt] of breakages) {
      const objects = structuredClone(built['k8s/overlays/cpu-only']!);
      breakIt(objects);
      assert.throws(() => (validateSchemas(objects), checkCluster(objects)), expected);
    }
  });
});

describe('deployment: docker-compose.yml', () => {
  const [compose] = readYaml('docker-compose.yml');
  const services: Record<string, Obj> = compose!.services;
  const stages = dockerStages().stages.map((s) => s.name);

  it('Redis 7 keeps jobs (AOF, noeviction) and has a healthcheck', () => {
    const redis = services.redis!;
    assert.match(redis.image, /^redis:7/);
    assert.match(redis.command.join(' '), /--appendonly yes/);
    assert.match(redis.command.join(' '), /--maxmemory-policy noeviction/);
    assert.deepEqual(redis.healthcheck.test, ['CMD', 'redis-cli', 'ping']);
  });

  it('the API and a worker per reference model agree with the code', () => {
    const models = new Set<string>();
    for (const [name, svc] of Object.entries(services)) {
      if (name === 'redis') continue;
      const app = appOf({ name, command: svc.command });
      assert.ok(app, `${name}: command runs no app`);
      assert.ok(stages.includes(svc.build.target) && svc.build.context === '.', `${name}: build target`);
      const env: Record<string, string> = svc.environment;
      for (const key of Object.keys(env)) assert.ok(ENV[app].has(key), `${name}: the ${app} does not read ${key}`);
      assert.equal(new URL(env.REDIS_URL!).hostname, 'redis', `${name}: REDIS_URL`);
      assert.equal(svc.depends_on.redis.condition, 'service_healthy', `${name}: waits for a healthy Redis`);
      const port = Number(env[PORT_VAR[app]] ?? DEFAULTS[app][PORT_VAR[app]]);
      const url = new URL(svc.healthcheck.test.at(-1));
      assert.deepEqual(svc.healthcheck.test.slice(0, 3), ['CMD', 'node', 'docker/healthcheck.mjs']);
      assert.ok(ROUTES[app].has(url.pathname), `${name}: healthcheck ${url.pathname} is not a route`);
      assert.equal(Number(url.port), port, `${name}: healthcheck port`);
      if (app === 'api') assert.deepEqual(svc.ports, [`127.0.0.1:${port}:${port}`]);
      if (app === 'worker') {
        assertModelExists(env.MODEL!);
        models.add(env.MODEL!);
        assert.deepEqual(svc.volumes, [`./models:${env.MODEL_REPOSITORY}:ro`]);
      }
    }
    assert.deepEqual([...models].sort(), [...REPO_MODELS].sort(), 'one worker per model in models/');
  });
});

describe('deployment: Dockerfile', () => {
  const { stages } = dockerStages();
  const stage = (name: string) => stages.find((s) => s.name === name)!;

  it('has cpu (default, last) and gpu targets that run the API by default, as a non-root user', () => {
    assert.equal(stages.at(-1)?.name, 'cpu');
    assert.match(stage('cpu').from, /^node:20-bookworm-slim$/);
    assert.match(stage('gpu').from, /^nvidia\/cuda:12\.[\d.]+-cudnn-runtime-/);
    for (const name of ['cpu', 'gpu']) {
      const lines = stage(name).lines;
      const env = lines.filter((l) => l.startsWith('ENV ')).join(' ');
      for (const kv of ['NODE_ENV=production', 'HOST=0.0.0.0', 'LANG=C.UTF-8']) assert.ok(env.includes(kv), kv);
      const user = lines.filter((l) => l.startsWith('USER ')).at(-1);
      assert.ok(user && !/^USER (root|0)\b/.test(user), `${name}: runs as root`);
      assert.ok(
        lines.some((l) => /^HEALTHCHECK .*CMD \["node", "docker\/healthcheck.mjs"\]/.test(l)),
        name,
      );
      assert.equal(lines.filter((l) => l.startsWith('CMD ')).at(-1), `CMD ["node", "${ENTRY.api}"]`);
      assert.ok(lines.includes('COPY package.json ./'), `${name}: package.json ("imports") missing`);
      // Files the compiled app reads that tsc does not emit (the demo page's static files).
      for (const dir of ['apps/api/public'].filter(existsSync)) {
        assert.ok(lines.includes(`COPY ${dir} ./${dir}`), `${name}: ${dir} missing`);
      }
      // node_modules come from a deps stage; only the GPU one downloads the CUDA provider.
      const deps = /^COPY --from=(\S+) \/app\/node_modules/.exec(lines.find((l) => l.includes('node_modules'))!)![1]!;
      const install = stage(deps).lines.join('\n');
      assert.match(install, /npm ci --omit=dev/);
      assert.equal(/ONNXRUNTIME_NODE_INSTALL=cuda12 npm ci/.test(install), name === 'gpu', `${name}: CUDA install`);
    }
    assert.match(readFileSync('.npmrc', 'utf8'), /^onnxruntime-node-install=skip$/m);
  });

  it('COPY sources exist and are in the build context; dist and node_modules are not', () => {
    const copies = stages.flatMap((s) => s.lines).filter((l) => /^COPY (?!--from)/.test(l));
    assert.ok(copies.length > 5);
    for (const line of copies) {
      const sources = line.split(/\s+/).slice(1, -1);
      for (const src of sources) {
        assert.ok(existsSync(src), `Dockerfile: COPY ${src}: no such file`);
        assert.ok(inBuildContext(relative('.', src)), `Dockerfile: COPY ${src} is excluded by .dockerignore`);
      }
    }
    for (const path of ['node_modules/x', 'dist/x', '.git/x', '.env']) assert.ok(!inBuildContext(path), path);
  });

  it('the built entry points exist, and the healthcheck script probes real routes', () => {
    for (const app of ['api', 'worker'] as App[]) {
      assert.ok(existsSync(`apps/${app}/src/main.ts`) && existsSync(ENTRY[app]), ENTRY[app]);
    }
    assert.ok(ROUTES.api.has('/v2/health/ready') && ROUTES.api.has('/v2/health/live'));
    assert.ok(ROUTES.worker.has('/health/ready') && ROUTES.worker.has('/health/live'));
    const script = readFileSync('docker/healthcheck.mjs', 'utf8');
    for (const app of ['api', 'worker'] as App[]) {
      const re = new RegExp(`\\$\\{process\\.env\\.${PORT_VAR[app]} \\|\\| (\\d+)\\}(/[\\w/]+)`);
      const [, port, path] = re.exec(script) ?? [];
      assert.equal(Number(port), DEFAULTS[app][PORT_VAR[app]], `healthcheck.mjs: ${app} port`);
      assert.ok(ROUTES[app].has(path!), `healthcheck.mjs: ${path} is not a ${app} route`);
    }
  });
});
