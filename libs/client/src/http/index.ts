export * from './binary-infer.js';
export * from './errors.js';
export * from './retry.js';
export * from './switchyard-http-client.js';
export * from './types.js';
export { verifyWebhookSignature, WEBHOOK_SIGNATURE_HEADER } from '../../../contracts/src/webhook-signature.js';
