import type { ScoringJob } from '../../../contracts/src/index.js';

/** Labels every per-request metric carries, API and worker alike. */
export const SCORING_LABELS = ['endpoint', 'deployment', 'model', 'version'] as const;
export type ScoringLabelName = (typeof SCORING_LABELS)[number];
export type ScoringLabels = Record<ScoringLabelName, string>;

/** Labels of batch-level and queue-level metrics (no endpoint: a batch mixes endpoints). */
export const DEPLOYMENT_LABELS = ['deployment', 'model', 'version'] as const;

/** The job fields metrics are labelled by. */
export type LabelledJob = Pick<ScoringJob, 'model' | 'endpoint' | 'deployment' | 'queue'>;

/**
 * Labels of one job: `endpoint` when it came through one (else ''), `deployment` by the job's
 * deployment, else its queue, else the model name (a model's queue is its deployment).
 */
export function jobLabels(job: LabelledJob, version: string | undefined): ScoringLabels {
  return {
    endpoint: job.endpoint ?? '',
    deployment: deploymentOf(job),
    model: job.model,
    version: version ?? '',
  };
}

export function deploymentOf(job: LabelledJob): string {
  return job.deployment ?? job.queue ?? job.model;
}

/** Request latency buckets, in seconds (1 ms to 30 s). */
export const LATENCY_BUCKETS_S = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** Stage buckets (queue wait, preprocessing, inference), in seconds (50 µs to 10 s). */
export const STAGE_BUCKETS_S = [
  0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10,
];

/** Batch size buckets, in items. */
export const BATCH_SIZE_BUCKETS = [1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 128, 256];
