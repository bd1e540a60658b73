// Checks that the objects of a built overlay refer to each other correctly: Services, Ingress,
// autoscalers, disruption budgets, KEDA triggers, and the dev Redis they all use.
import assert from 'node:assert/strict';
import { DEFAULTS, getRoutes, waitList, workerQueue, type Obj } from './deploy-code.js';
import { find, NAMESPACE, podSpec, selects } from './deploy-kustomize.js';
import type { AppPod } from './deploy-k8s-pods.js';

export function checkReferences(objects: Obj[], pods: AppPod[]): void {
  const api = pods.find((p) => p.app === 'api')!;
  const workers = pods.filter((p) => p.app === 'worker');
  const workloads = objects.filter(podSpec);

  // No workload selects another one's pods: Deployments would fight over them.
  for (const w of workloads) {
    for (const other of workloads.filter((x) => x !== w)) {
      assert.ok(
        !selects(w.spec.selector.matchLabels, other.spec.template.metadata.labels),
        `${w.kind} ${w.metadata.name} selects the pods of ${other.metadata.name}`,
      );
    }
  }

  for (const svc of objects.filter((o) => o.kind === 'Service')) {
    const selected = workloads.filter((w) => selects(svc.spec.selector, w.spec.template.metadata.labels));
    assert.ok(selected.length > 0, `Service ${svc.metadata.name} selects no pods`);
    const ports = selected.flatMap((w) => podSpec(w)!.containers.flatMap((c: Obj) => c.ports ?? []));
    for (const p of svc.spec.ports) {
      assert.ok(
        ports.some((cp: Obj) => cp.name === p.targetPort || cp.containerPort === p.targetPort),
        p.name,
      );
    }
  }

  checkIngress(objects, api);

  const scaled = new Set<string>();
  for (const s of objects.filter((o) => o.kind === 'HorizontalPodAutoscaler' || o.kind === 'ScaledObject')) {
    const target = s.spec.scaleTargetRef.name;
    assert.ok(find(objects, 'Deployment', target), `${s.kind} ${s.metadata.name}: no Deployment ${target}`);
    assert.ok(!scaled.has(target), `${target} has two autoscalers`);
    scaled.add(target);
  }
  for (const { o } of pods) {
    assert.ok(scaled.has(o.metadata.name), `${o.metadata.name} has no autoscaler`);
    assert.equal(o.spec.replicas, undefined, `${o.metadata.name}: replicas would fight its autoscaler`);
    const labels = o.spec.template.metadata.labels;
    const pdbs = objects.filter(
      (p) => p.kind === 'PodDisruptionBudget' && selects(p.spec.selector.matchLabels, labels),
    );
    assert.equal(pdbs.length, 1, `${o.metadata.name}: one PodDisruptionBudget`);
  }

  // KEDA: one redis trigger per worker, on the list BullMQ keeps its queue's waiting jobs in.
  for (const { o, env } of workers) {
    const so = objects.find((s) => s.kind === 'ScaledObject' && s.spec.scaleTargetRef.name === o.metadata.name);
    assert.ok(so, `${o.metadata.name}: no ScaledObject`);
    assert.ok(so.spec.minReplicaCount >= 1, `${o.metadata.name}: minReplicaCount >= 1 keeps a warm worker`);
    const [trigger] = so.spec.triggers;
    assert.equal(trigger.type, 'redis');
    const expected = waitList(env.values.REDIS_PREFIX ?? DEFAULTS.worker.REDIS_PREFIX, workerQueue(env.values));
    assert.equal(trigger.metadata.listName, expected, `${o.metadata.name}: KEDA listName is not BullMQ's wait list`);
    assert.match(trigger.metadata.listLength, /^[1-9][0-9]*$/);
    const url = new URL(env.values.REDIS_URL!);
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

function checkIngress(objects: Obj[], api: AppPod): void {
  const ingresses = objects.filter((o) => o.kind === 'Ingress');
  assert.ok(ingresses.length > 0, 'no Ingress');
  for (const ing of ingresses) {
    const a = ing.metadata.annotations ?? {};
    assert.ok(a['cert-manager.io/cluster-issuer'], 'Ingress: cert-manager cluster-issuer annotation');
    assert.equal(a['nginx.ingress.kubernetes.io/force-ssl-redirect'], 'true', 'Ingress: HTTP -> HTTPS redirect');
    const tlsHosts = ing.spec.tls.flatMap((t: Obj) => t.hosts);
    const bodyLimit = Number(api.env.values.BODY_LIMIT_BYTES ?? DEFAULTS.api.BODY_LIMIT_BYTES);
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
        assert.ok(selects(svc!.spec.selector, api.o.spec.template.metadata.labels), 'Ingress -> API pods');
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
}
