import {
  ConfigError,
  deploymentQueue,
  ManagementStore,
  ModelRepository,
  queueNameFor,
  resolveDeployment,
  serveResolved,
  type DeploymentRecord,
  type ModelServer,
  type WorkerEnv,
} from '#runtime';

/**
 * Where a worker's model comes from and which queue it consumes:
 * `MODEL=<name>` serves a model of the repository on the queue named after it;
 * `DEPLOYMENT=<endpoint>/<deployment>` serves a registered version on the deployment's queue
 * and follows the deployment when its version or settings change.
 */
export interface ModelSource {
  readonly queue: string;
  /** What to call this in logs. */
  readonly label: string;
  load(): Promise<ModelServer>;
  /** For deployments: loads the new spec's model if it changed since the last load, else undefined. */
  reloadIfChanged?(): Promise<ModelServer | undefined>;
}

export function modelSource(env: WorkerEnv, store: ManagementStore): ModelSource {
  if (env.MODEL && env.DEPLOYMENT) throw new ConfigError('invalid environment:\n  - set MODEL or DEPLOYMENT, not both');
  if (env.DEPLOYMENT) return new DeploymentSource(env, store);
  if (!env.MODEL)
    throw new ConfigError(
      'invalid environment:\n  - MODEL (a repository model) or DEPLOYMENT (<endpoint>/<deployment>) is required',
    );
  return new RepositorySource(env, env.MODEL);
}

class RepositorySource implements ModelSource {
  readonly queue: string;
  readonly label: string;

  constructor(
    private readonly env: WorkerEnv,
    private readonly model: string,
  ) {
    this.queue = queueNameFor(model);
    this.label = `model '${model}'`;
  }

  async load(): Promise<ModelServer> {
    const repository = new ModelRepository(this.env.MODEL_REPOSITORY);
    return serveResolved(await repository.resolve(this.model, this.env.MODEL_VERSION), this.env.DEVICE);
  }
}

class DeploymentSource implements ModelSource {
  readonly queue: string;
  readonly label: string;
  private readonly endpoint: string;
  private readonly deployment: string;
  private loaded: DeploymentRecord | undefined;

  constructor(
    private readonly env: WorkerEnv,
    private readonly store: ManagementStore,
  ) {
    [this.endpoint, this.deployment] = env.DEPLOYMENT!.split('/') as [string, string];
    this.queue = deploymentQueue(this.endpoint, this.deployment);
    this.label = `deployment '${env.DEPLOYMENT}'`;
  }

  async load(): Promise<ModelServer> {
    const spec = await this.spec();
    if (!spec) throw new ConfigError(`${this.label} not found: create it through the management API first`);
    return this.serve(spec);
  }

  async reloadIfChanged(): Promise<ModelServer | undefined> {
    const spec = await this.spec();
    if (!spec || !this.loaded || !changed(this.loaded, spec)) return undefined;
    return this.serve(spec);
  }

  private async spec(): Promise<DeploymentRecord | undefined> {
    return (await this.store.endpoint(this.endpoint))?.deployments[this.deployment];
  }

  private async serve(spec: DeploymentRecord): Promise<ModelServer> {
    const record = await this.store.version(spec.model, spec.version);
    if (!record)
      throw new ConfigError(`${this.label}: model '${spec.model}' version ${spec.version} is not registered`);
    const server = await serveResolved(await resolveDeployment(record, spec.settings), this.env.DEVICE);
    this.loaded = spec;
    return server;
  }
}

function changed(a: DeploymentRecord, b: DeploymentRecord): boolean {
  return a.model !== b.model || a.version !== b.version || JSON.stringify(a.settings) !== JSON.stringify(b.settings);
}
