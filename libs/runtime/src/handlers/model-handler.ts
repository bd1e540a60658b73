import type { ScoringJob, WireTensor } from '../../../contracts/src/index.js';
import type { LoadedModel, TensorMap } from '../session/loaded-model.js';

/** One request turned into model feeds, ready for the batcher. */
export interface PreparedItem {
  feeds: TensorMap;
  /** Rows this item adds to a batch. */
  rows: number;
  /** Items batch together only when equal. */
  signature: string;
}

/** What a handler makes of this item's slice of the model outputs. */
export interface HandledOutput {
  outputs?: WireTensor[];
  result?: unknown;
}

/**
 * Pre- and post-processing around the batched inference. Preprocessing runs per item,
 * concurrently, in the worker before batching; postprocessing per item after the split.
 */
export interface ModelHandler {
  prepare(job: ScoringJob): Promise<PreparedItem>;
  finish(job: ScoringJob, outputs: TensorMap): HandledOutput;
}

/** Builds a handler for a loaded model from its config. */
export type HandlerFactory = (model: LoadedModel) => Promise<ModelHandler>;
