// Schema validation of Kubernetes and KEDA objects with kubernetes-models, plus the strictness
// kubectl adds (unknown pod and container fields are refused).
import assert from 'node:assert/strict';
// One module per kind: the package indexes load every kind's schema, which takes seconds.
import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1/Ingress';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import type { Obj } from './deploy-code.js';
import { podSpec } from './deploy-kustomize.js';

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

export function validateSchemas(objects: Obj[]): void {
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
