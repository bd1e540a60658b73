import type { ModelConfig } from '../repository/model-config.js';

/**
 * Jobs a worker holds at once: twice the batch size, so a batch can fill while another runs,
 * and at least 8 for models that do not batch (their preprocessing still overlaps).
 */
export function defaultConcurrency(config: ModelConfig): number {
  return Math.max(8, 2 * config.max_batch_size);
}
