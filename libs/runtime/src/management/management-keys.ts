/** Redis names of the management state, under the deployment's key prefix. */
export class ManagementKeys {
  constructor(private readonly prefix: string) {}

  /** Set of registered model names. */
  get models(): string {
    return `${this.prefix}:_reg:models`;
  }

  /** Hash: version → VersionRecord JSON. */
  versions(model: string): string {
    return `${this.prefix}:_reg:model:${model}`;
  }

  /** Hash: endpoint name → EndpointRecord JSON. */
  get endpoints(): string {
    return `${this.prefix}:_ep:endpoints`;
  }

  /** Pub/sub channel announcing every management change (`{kind, name, revision}`). */
  get events(): string {
    return `${this.prefix}:_mgmt`;
  }
}
