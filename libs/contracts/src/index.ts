export * from './datatype.js';
export * from './tensor.js';
export * from './binary-tensor.js';
export * from './model-metadata.js';
export * from './scoring-job.js';
export * from './scoring-error.js';
export * from './async-job.js';
export * from './webhook-signature.js';
