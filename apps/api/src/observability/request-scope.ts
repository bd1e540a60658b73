import { AsyncLocalStorage } from 'node:async_hooks';
import type { IncomingMessage } from 'node:http';
import type { Context, Span } from '@opentelemetry/api';
import type { ScoringJob, ScoringReply } from '#contracts';

/** What the API learns about one HTTP request while it is served, for its metrics and spans. */
export interface RequestObservation {
  /** The request's HTTP server span, when tracing is on. */
  span?: Span;
  /** The context holding that span (parent of the enqueue span). */
  context?: Context;
  /** The request's (first, non-mirror) job, once submitted: labels come from its fields. */
  job?: ScoringJob;
  /** That job's reply, once it came: the served version. */
  reply?: ScoringReply;
}

/** The observation of the request being handled, across the awaits of its handler. */
export const requestScope = new AsyncLocalStorage<RequestObservation>();

/** Observation by raw request, from the `onRequest` hook to the `onResponse` hook. */
export const observations = new WeakMap<IncomingMessage, RequestObservation>();
