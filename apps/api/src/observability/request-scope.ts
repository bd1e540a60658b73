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

/** Observation by raw request, from the `onRequest` hook to the `onResponse` hook. */
export const observations = new WeakMap<IncomingMessage, RequestObservation>();

/**
 * The observation of the request a job serves, set where the job is made (ScoringService,
 * AsyncJobService) and read where it is submitted (instrumentTransport). Passed explicitly: an
 * AsyncLocalStorage would do it implicitly, but on Node 20 it hooks every promise the process
 * makes, which cost the API ~10% of its CPU per request.
 */
export const jobObservations = new WeakMap<ScoringJob, RequestObservation>();

/**
 * Reads a job's observation once, removing the entry. Entries must not wait for their keys to
 * die: V8's young-generation collections keep the entries of a WeakMap that lives in the old
 * generation, key and value, so each job, its reply and its observation were promoted to the
 * old generation and freed only by the next full collection (reproduced in isolation: entries
 * set and never deleted promoted everything they referenced; deleted, nothing).
 */
export function takeJobObservation(job: ScoringJob): RequestObservation | undefined {
  const observation = jobObservations.get(job);
  if (observation) jobObservations.delete(job);
  return observation;
}
