export * from './microservice/rpc-error.js';
export * from './microservice/rpc-payload.js';
export * from './microservice/switchyard-client-proxy.js';
export * from './http/index.js';
