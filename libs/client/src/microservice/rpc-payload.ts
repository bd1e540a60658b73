import type { ScoringJob, Timings, WireTensor } from '../../../contracts/src/index.js';
import { validateInputs, validateOutputNames, type CatalogEntry, type RawInput } from '../../../runtime/src/index.js';
import { SwitchyardRpcError } from './rpc-error.js';

/**
 * The data of `send('score.<model>', data)` / `emit(...)`: OIP tensors (`inputs`), or a
 * friendly input for models with a handler (exactly one of `text`, `texts`, `images`).
 */
export interface ScorePayload {
  /** OIP input tensors `{name, datatype, shape, data}`, checked against the model's signature. */
  inputs?: RawInput[];
  /** Tensor outputs to return, as OIP `[{name}]`. @defaultValue every output */
  outputs?: { name: string }[];
  text?: string;
  texts?: string[];
  /** Base64 image files (JPEG, PNG, WebP, GIF, TIFF). */
  images?: string[];
  /** Model version. @defaultValue the newest served */
  version?: string;
  parameters?: {
    /** Lowers the deadline (ms). @defaultValue the model's default_timeout_ms (send), the client's eventTimeoutMs (emit) */
    timeout_ms?: number;
    /** Queue priority, 0 first. @defaultValue 0 (send), the client's eventPriority (emit) */
    priority?: number;
    /** Friendly models: classes per item. @defaultValue the model's handler.top_k */
    top_k?: number;
  };
}

/** What `send` emits: the tensors (tensor payloads) or the predictions (friendly payloads). */
export interface ScoreResult {
  model: string;
  version: string;
  outputs?: WireTensor[];
  /** One per text or image, in order. */
  predictions?: unknown[];
  timings: Timings;
}

/** The job fields a payload decides. */
export type PreparedJob = Pick<ScoringJob, 'model' | 'version' | 'kind' | 'inputs' | 'payload' | 'parameters'>;

/** `score.<model>` → model name; anything else is refused. */
export function modelOfPattern(pattern: unknown): string {
  const match = typeof pattern === 'string' ? /^score\.([A-Za-z0-9][A-Za-z0-9_.-]{0,63})$/.exec(pattern) : null;
  if (!match) throw new SwitchyardRpcError(400, `unknown pattern ${JSON.stringify(pattern)}: use 'score.<model>'`);
  return match[1]!;
}

/** Validates a payload against the model's announced signature, as the API does. */
export function prepareJob(model: string, data: ScorePayload, entry: CatalogEntry | undefined): PreparedJob {
  if (!entry) throw new SwitchyardRpcError(404, `model '${model}' not found`);
  const meta = entry.metadata;
  if (data.version !== undefined && !meta.versions.includes(String(data.version))) {
    throw new SwitchyardRpcError(404, `model '${model}' has no version '${data.version}'`);
  }
  const version = data.version === undefined ? undefined : String(data.version);
  const friendly = (['text', 'texts', 'images'] as const).filter((k) => data[k] !== undefined);
  if (data.inputs !== undefined) {
    if (friendly.length > 0) throw new SwitchyardRpcError(400, `send either inputs or ${friendly[0]}, not both`);
    if (!Array.isArray(data.inputs)) throw new SwitchyardRpcError(400, 'inputs: must be an array of tensors');
    const { inputs } = validateInputs(meta, data.inputs);
    const outputs = validateOutputNames(meta, data.outputs);
    return { model, version, kind: 'tensors', inputs, parameters: outputs ? { outputs } : undefined };
  }
  if (friendly.length !== 1) {
    throw new SwitchyardRpcError(
      400,
      `give inputs, or exactly one of text, texts, images (got ${friendly.join(', ') || 'none'})`,
    );
  }
  const wantsImages = meta.handler === 'image-classification';
  if (meta.handler === 'tensor') throw new SwitchyardRpcError(400, `model '${model}' takes tensors only: send inputs`);
  if (wantsImages !== (friendly[0] === 'images')) {
    throw new SwitchyardRpcError(400, `model '${model}' (${meta.handler}) takes ${wantsImages ? 'images' : 'text'}`);
  }
  const items = wantsImages
    ? strings(data.images, 'images')
    : data.text !== undefined
      ? [data.text]
      : strings(data.texts, 'texts');
  if (items.length === 0 || items.some((s) => typeof s !== 'string' || s.length === 0)) {
    throw new SwitchyardRpcError(400, `${friendly[0]}: must be non-empty strings`);
  }
  if (items.length > Math.max(1, meta.maxBatchSize)) {
    throw new SwitchyardRpcError(400, `${items.length} items exceed the model's max_batch_size ${meta.maxBatchSize}`);
  }
  if (wantsImages && items.some((b64) => !/^[A-Za-z0-9+/]+={0,2}$/.test(b64) || b64.length % 4 !== 0)) {
    throw new SwitchyardRpcError(400, 'images: each must be base64');
  }
  const topK = data.parameters?.top_k;
  return {
    model,
    version,
    kind: 'friendly',
    payload: wantsImages ? { images: items } : { texts: items },
    parameters: topK !== undefined ? { top_k: topK } : undefined,
  };
}

function strings(value: unknown, label: string): string[] {
  if (!Array.isArray(value)) throw new SwitchyardRpcError(400, `${label}: must be an array of strings`);
  return value as string[];
}
