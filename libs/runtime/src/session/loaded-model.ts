import type ort from 'onnxruntime-node';
import type { ModelMetadata, TensorData, TensorSpec } from '../../../contracts/src/index.js';
import { ConfigError } from '../repository/config-error.js';
import type { ModelConfig } from '../repository/model-config.js';
import type { ResolvedModel } from '../repository/model-repository.js';
import { elementCount, toOrtTensor } from '../tensor/tensor-codec.js';
import { availableCores } from './available-cores.js';
import { executionProvidersFor } from './execution-provider.js';
import { createLocalSession, type ModelSession, type SessionSpec, type TensorMap } from './model-session.js';
import { deriveSignature, type ModelSignature } from './model-signature.js';
import { SessionPool } from './session-pool.js';
import { ThreadedSession } from './threaded-session.js';

export type { TensorMap } from './model-session.js';

/** One served version: its session and signature. */
export interface LoadedVersion {
  version: string;
  session: ModelSession;
  signature: ModelSignature;
}

/**
 * The intra-op threads each of `count` sessions gets: the config's, or for 0 the cores this
 * process can keep busy (its CPUs, capped by a container's CPU limit: available-cores.ts),
 * shared among the sessions (at least one each). Not onnxruntime's own choice for 0: it
 * counts cores its own way, and on a 2-vCPU EPYC VM it ran ResNet-50 no faster than one
 * thread (24 against 43 items/s with 2).
 */
export function intraOpThreads(configured: number, count = 1, cores = availableCores()): number {
  return configured > 0 ? configured : Math.max(1, Math.floor(cores / count));
}

/**
 * A model with every version its policy selects loaded into an onnxruntime session.
 * All versions must share one signature, so one request validation fits them all.
 */
export class LoadedModel {
  /** What workers announce and the API validates against; computed once. */
  readonly metadata: ModelMetadata;

  private constructor(
    readonly name: string,
    readonly dir: string,
    readonly config: ModelConfig,
    /** Newest first. */
    readonly versions: LoadedVersion[],
  ) {
    this.metadata = {
      name,
      versions: versions.map((v) => v.version),
      platform: config.platform,
      inputs: this.signature.inputs,
      outputs: this.signature.outputs,
      maxBatchSize: config.max_batch_size,
      defaultTimeoutMs: config.queue_policy.default_timeout_ms,
      maxQueueSize: config.queue_policy.max_queue_size,
      handler: config.handler.kind,
    };
  }

  /** Loads every selected version; throws ConfigError with the file at fault. */
  static async load(resolved: ResolvedModel): Promise<LoadedModel> {
    const { config } = resolved;
    const executionProviders = executionProvidersFor(config.instance);
    const versions: LoadedVersion[] = [];
    const { count } = config.instance;
    for (const v of resolved.versions) {
      const spec: SessionSpec = {
        path: v.path,
        options: {
          executionProviders,
          intraOpNumThreads: intraOpThreads(config.instance.intra_op_threads, count),
          interOpNumThreads: 1,
          graphOptimizationLevel: 'all',
          // Spinning threads burn a core waiting for work; on shared CPUs beside the API and
          // Redis that costs more than the microseconds it saves.
          extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
        },
      };
      // Several instances only run at once on threads of their own.
      const create = config.instance.inference_thread || count > 1 ? ThreadedSession.create : createLocalSession;
      const sessions: ModelSession[] = [];
      try {
        while (sessions.length < count) sessions.push(await create(spec));
      } catch (err) {
        await Promise.all(sessions.map((s) => s.release()));
        await Promise.all(versions.map((loaded) => loaded.session.release()));
        throw new ConfigError(`${v.path}: onnxruntime cannot load the model: ${(err as Error).message}`);
      }
      const session = count > 1 ? new SessionPool(sessions) : sessions[0]!;
      versions.push({ version: v.version, session, signature: deriveSignature(v.path, config, session) });
    }
    const first = versions[0]!;
    for (const other of versions.slice(1)) {
      if (JSON.stringify(other.signature) !== JSON.stringify(first.signature)) {
        throw new ConfigError(
          `model '${resolved.name}': versions ${first.version} and ${other.version} have different signatures; ` +
            'serve them as separate models or pin one with MODEL_VERSION',
        );
      }
    }
    return new LoadedModel(resolved.name, resolved.dir, config, versions);
  }

  get signature(): ModelSignature {
    return this.versions[0]!.signature;
  }

  /** The version a request asked for, or the newest; undefined when not served. */
  version(requested?: string): LoadedVersion | undefined {
    return requested === undefined ? this.versions[0] : this.versions.find((v) => v.version === requested);
  }

  /** Why a version's session can run nothing more (its inference thread died), if it cannot. */
  get failure(): Error | undefined {
    return this.versions.find((v) => v.session.failure)?.session.failure;
  }

  /** Runs one inference on every version with placeholder inputs, so the first request is not slow. */
  async warmUp(): Promise<void> {
    for (const v of this.versions) {
      const feeds: TensorMap = {};
      for (const spec of v.signature.inputs) feeds[spec.name] = placeholder(spec);
      // Every instance: the pool hands concurrent runs to different sessions.
      await Promise.all(Array.from({ length: this.config.instance.count }, () => v.session.run(feeds)));
    }
  }

  async release(): Promise<void> {
    await Promise.all(this.versions.map((v) => v.session.release()));
  }
}

/** A zero-filled tensor of the spec's shape with every variable dimension set to 1. */
function placeholder(spec: TensorSpec): ort.Tensor {
  const shape = spec.shape.map((d) => (d === -1 ? 1 : d));
  const size = elementCount(shape);
  const zero = spec.datatype === 'BYTES' ? '' : spec.datatype === 'BOOL' ? false : 0;
  return toOrtTensor({
    name: spec.name,
    datatype: spec.datatype,
    shape,
    data: new Array(size).fill(zero) as TensorData,
  });
}
