// Facts the deployment tests take from the code, so that the deployment files cannot drift from
// it: the variables each app reads, its routes and ports, the models, the queue names.
// The env classes use class-transformer's @Type, which needs the Reflect metadata API.
import 'reflect-metadata';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { QueueKeys } from 'bullmq';
import { getMetadataStorage } from 'class-validator';
import { parse } from 'yaml';
import { ApiEnv, WorkerEnv } from '../../../libs/runtime/src/config/env.js';
import { deploymentQueue } from '../../../libs/runtime/src/management/management-records.js';
import { QueuePolicyConfig } from '../../../libs/runtime/src/repository/model-config.js';
import { queueNameFor } from '../../../libs/runtime/src/transport/redis-keys.js';

export type Obj = Record<string, any>;
export type App = 'api' | 'worker';
export const APPS: App[] = ['api', 'worker'];

export { NODE_FLAGS } from '../../../libs/runtime/src/config/node-flags.js';

export const ENTRY: Record<App, string> = {
  api: 'dist/apps/api/src/main.js',
  worker: 'dist/apps/worker/src/main.js',
};
/** Models that are not in models/ but that a tool of the repository writes. */
const TOOL_MODELS: Record<string, string> = { resnet50: 'tools/export_resnet.py', resnet152: 'tools/export_resnet.py' };

/** The variables an app reads: the properties its env class validates. */
function envNames(cls: new () => object): Set<string> {
  const metas = getMetadataStorage().getTargetValidationMetadatas(cls, '', true, false);
  return new Set(metas.map((m) => m.propertyName));
}
export const ENV: Record<App, Set<string>> = { api: envNames(ApiEnv), worker: envNames(WorkerEnv) };
export const DEFAULTS: Record<App, Obj> = { api: new ApiEnv(), worker: new WorkerEnv() };
/** The variable naming the port an app serves its routes (health, /metrics) on. */
export const PORT_VAR: Record<App, 'PORT' | 'HEALTH_PORT'> = { api: 'PORT', worker: 'HEALTH_PORT' };

export function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

/**
 * Routes of an app, read from the @Controller and @Get (or other method) decorators of its own
 * controllers and of the library controllers its modules register (`controllers: [...]`), such
 * as the telemetry library's MetricsController (`/metrics`).
 */
export function getRoutes(app: App, methods = 'Get'): Set<string> {
  const appFiles = walk(`apps/${app}/src`).filter((f) => f.endsWith('.ts'));
  const registered = appFiles
    // `controllers: [A, B]`, or a conditional list such as `controllers: on ? [A] : []`.
    .flatMap((f) => [...readFileSync(f, 'utf8').matchAll(/controllers:([^\n]*)/g)])
    .flatMap((m) => [...m[1]!.matchAll(/\b[A-Z]\w*Controller\b/g)].map((name) => name[0]));
  const libControllers = walk('libs')
    .filter((f) => f.endsWith('.controller.ts'))
    .filter((f) => registered.includes(/export class (\w+)/.exec(readFileSync(f, 'utf8'))?.[1] ?? ''));
  const routes = new Set<string>();
  for (const file of [...appFiles.filter((f) => f.endsWith('.controller.ts')), ...libControllers]) {
    const src = readFileSync(file, 'utf8');
    const prefix = /@Controller\(\s*'([^']*)'\s*\)/.exec(src)?.[1] ?? '';
    for (const m of src.matchAll(new RegExp(`@(?:${methods})\\(\\s*(?:'([^']*)')?\\s*\\)`, 'g'))) {
      routes.add('/' + [prefix, m[1]].filter(Boolean).join('/'));
    }
  }
  return routes;
}
export const ROUTES: Record<App, Set<string>> = { api: getRoutes('api'), worker: getRoutes('worker') };

export function modelConfig(model: string): Obj | undefined {
  const file = ['config.yaml', 'config.yml', 'config.json'].map((f) => join('models', model, f)).find(existsSync);
  return file ? parse(readFileSync(file, 'utf8')) : undefined;
}
/** The models of the repository, which the images ship under /app/models. */
export const REPO_MODELS = readdirSync('models').filter((m) => modelConfig(m));

/** Asserts a worker's MODEL can be served: in models/ with config and an ONNX file, or made by a tool. */
export function assertModelExists(model: string): void {
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
export function deadlineSeconds(model: string): number {
  const fromTool = TOOL_MODELS[model] && /default_timeout_ms: (\d+)/.exec(readFileSync(TOOL_MODELS[model], 'utf8'));
  const ms = modelConfig(model)?.queue_policy?.default_timeout_ms ?? (fromTool ? Number(fromTool[1]) : undefined);
  return (ms ?? new QueuePolicyConfig().default_timeout_ms) / 1000;
}

/** The queue a worker consumes: its model's, or its endpoint deployment's (`<endpoint>/<deployment>`). */
export function workerQueue(env: Record<string, string | undefined>): string {
  if (env.DEPLOYMENT) {
    const [endpoint, deployment] = env.DEPLOYMENT.split('/') as [string, string];
    return deploymentQueue(endpoint, deployment);
  }
  return queueNameFor(env.MODEL ?? '');
}

/** BullMQ's list of a queue's waiting jobs: what KEDA's redis trigger measures. */
export function waitList(prefix: string, queue: string): string {
  return new QueueKeys(prefix).toKey(queue, 'wait');
}
