// class-transformer's @Type reads decorator metadata when the class is defined.
import 'reflect-metadata';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsNotEmpty,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  ValidateNested,
} from 'class-validator';
import { DATATYPES, type Datatype } from '../../../contracts/src/index.js';

/** Dynamic batching settings (Triton's `dynamic_batching`, delays in milliseconds). */
export class DynamicBatchingConfig {
  /**
   * How long a batch may wait for more requests after its first one arrived.
   * @defaultValue 0 (run whatever is waiting at once; batches still form under load)
   */
  @IsOptional()
  @IsNumber()
  @Min(0)
  @Max(10_000)
  max_queue_delay_ms = 0;

  /**
   * Batch sizes the batcher prefers: a batch that reaches one of them before the delay is
   * over runs at once if nothing else is waiting.
   * @defaultValue [] (only `max_batch_size` flushes early)
   */
  @IsOptional()
  @IsArray()
  @IsInt({ each: true })
  @Min(1, { each: true })
  preferred_batch_sizes: number[] = [];
}

/** Where and how the model's sessions run (Triton's `instance_group`, per worker process). */
export class InstanceConfig {
  /**
   * Sessions per served version, each running a batch of its own at the same time (Triton's
   * `instance_group.count`). Each runs on its own thread, whatever `inference_thread` says.
   * On CPU, `count` one-thread sessions keep `count` cores busy without the wait at every
   * operator that one session's intra-op threads have, where an interruption of any core
   * stalls them all: on a 2-vCPU VM two one-thread sessions ran ResNet-50 at 46 items/s
   * against 43 for one two-thread session. Costs one copy of the weights per instance.
   * @defaultValue 1
   */
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(64)
  count = 1;

  /**
   * Execution provider. `cuda` fails fast at start where the CUDA provider is unavailable.
   * The worker's `DEVICE` environment variable overrides it.
   * @defaultValue 'cpu'
   */
  @IsOptional()
  @IsIn(['cpu', 'cuda'])
  device: 'cpu' | 'cuda' = 'cpu';

  /**
   * Threads one inference may use. 0: the cores the worker can keep busy (the CPUs it may
   * run on, capped by its container's CPU limit, rounded down) shared among the `count`
   * sessions, at least one each.
   * @defaultValue 0
   */
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(256)
  intra_op_threads = 0;

  /**
   * Run inferences on a thread of their own instead of the worker's main thread. onnxruntime
   * blocks the thread that runs it for the whole batch; on its own thread, the worker keeps
   * fetching jobs, decoding images and sending replies meanwhile. Worth it when a batch takes
   * milliseconds or more (image CNNs); for sub-millisecond models the hand-off costs more
   * than it frees.
   * @defaultValue false
   */
  @IsOptional()
  @IsBoolean()
  inference_thread = false;

  /** CUDA device ordinal when `device` is `cuda`. @defaultValue 0 */
  @IsOptional()
  @IsInt()
  @Min(0)
  gpu_device_id = 0;
}

/** Queue bounds and timeouts (Triton's `default_queue_policy`). */
export class QueuePolicyConfig {
  /**
   * Waiting jobs allowed before new requests are refused with 429. 0: the default bound, four
   * rounds of what the live workers hold at once (at least 64), growing with the workers.
   * @defaultValue 0
   */
  @IsOptional()
  @IsInt()
  @Min(0)
  max_queue_size = 0;

  /**
   * Request deadline when the request sets none; a request may only lower it.
   * @defaultValue 10000
   */
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(3_600_000)
  default_timeout_ms = 10_000;
}

/** A declared input or output. With `max_batch_size > 0`, `dims` exclude the batch dimension. */
export class TensorDeclaration {
  @IsString()
  @IsNotEmpty()
  name!: string;

  @IsIn(DATATYPES as unknown as string[])
  datatype!: Datatype;

  @IsArray()
  @ArrayMaxSize(8)
  @IsInt({ each: true })
  @Min(-1, { each: true })
  dims!: number[];
}

export class LatestVersionPolicy {
  /** @defaultValue 1 */
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(100)
  num_versions = 1;
}

export class SpecificVersionPolicy {
  @IsArray()
  @ArrayMinSize(1)
  @IsInt({ each: true })
  @Min(1, { each: true })
  versions!: number[];
}

/**
 * Which numbered version directories are served (Triton's `version_policy`); set at most one.
 * @defaultValue `{ latest: { num_versions: 1 } }`
 */
export class VersionPolicyConfig {
  @IsOptional()
  @ValidateNested()
  @Type(() => LatestVersionPolicy)
  latest?: LatestVersionPolicy;

  /** Serve every version found. */
  @IsOptional()
  @IsObject()
  all?: Record<string, never>;

  @IsOptional()
  @ValidateNested()
  @Type(() => SpecificVersionPolicy)
  specific?: SpecificVersionPolicy;
}

/**
 * Payload capture (model data collection): the worker appends a sample of requests and their
 * replies to JSONL files, for monitoring and retraining. Headers and keys are never captured;
 * images are stored as a sha256 and a byte length.
 */
export class CaptureConfig {
  /** @defaultValue false */
  @IsOptional()
  @IsBoolean()
  enabled = false;

  /** Fraction of requests captured, 0 to 1. @defaultValue 0.01 */
  @IsOptional()
  @IsNumber()
  @Min(0)
  @Max(1)
  sample_rate = 0.01;

  /** Directory of the JSONL files (relative to the working directory). @defaultValue `./capture/<model>` */
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  dir?: string;

  /** A file is closed and a new one started when it would grow past this. @defaultValue 10485760 (10 MiB) */
  @IsOptional()
  @IsInt()
  @Min(1024)
  max_file_bytes = 10 * 1024 * 1024;

  /** Most files kept; the oldest is deleted when a new one would exceed it. @defaultValue 10 */
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(100_000)
  max_files = 10;
}

export const HANDLER_KINDS = ['tensor', 'text-classification', 'image-classification'] as const;
export type HandlerKind = (typeof HANDLER_KINDS)[number];

/**
 * Names the no-code pre/post-processing handler. Kept as a plain object: each handler
 * validates its own options when it is created.
 */
export interface HandlerConfig {
  /** @defaultValue 'tensor' (OIP tensors in, tensors out) */
  kind: HandlerKind;
  [option: string]: unknown;
}

/** `models/<name>/config.(json|yaml)`: everything the worker needs to serve one model. */
export class ModelConfig {
  /** Optional; must equal the directory name when given. */
  @IsOptional()
  @IsString()
  @Matches(/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,63}$/)
  name?: string;

  /** @defaultValue 'onnxruntime_onnx' */
  @IsOptional()
  @IsIn(['onnxruntime_onnx'])
  platform = 'onnxruntime_onnx';

  /**
   * Most rows one inference runs. 0 disables batching: request shapes are model shapes.
   * @defaultValue 0
   */
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(4096)
  max_batch_size = 0;

  @IsOptional()
  @ValidateNested()
  @Type(() => DynamicBatchingConfig)
  dynamic_batching = new DynamicBatchingConfig();

  @IsOptional()
  @ValidateNested()
  @Type(() => InstanceConfig)
  instance = new InstanceConfig();

  @IsOptional()
  @ValidateNested()
  @Type(() => QueuePolicyConfig)
  queue_policy = new QueuePolicyConfig();

  @IsOptional()
  @ValidateNested()
  @Type(() => VersionPolicyConfig)
  version_policy = new VersionPolicyConfig();

  /** Declared inputs; read from the ONNX model when absent. */
  @IsOptional()
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => TensorDeclaration)
  input?: TensorDeclaration[];

  /** Declared outputs; read from the ONNX model when absent. */
  @IsOptional()
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => TensorDeclaration)
  output?: TensorDeclaration[];

  @IsOptional()
  @IsObject()
  handler: HandlerConfig = { kind: 'tensor' };

  /** Payload capture; off by default. */
  @IsOptional()
  @ValidateNested()
  @Type(() => CaptureConfig)
  capture = new CaptureConfig();
}
