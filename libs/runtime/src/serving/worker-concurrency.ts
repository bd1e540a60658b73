import type { ModelConfig } from '../repository/model-config.js';

/**
 * Jobs a worker holds at once: a batch for each instance (`instance.count`) and one more, so
 * a batch can fill while the others run, and at least 8 for models that do not batch (their
 * preprocessing still overlaps).
 */
export function defaultConcurrency(config: ModelConfig): number {
  return Math.max(8, (config.instance.count + 1) * config.max_batch_size);
}
