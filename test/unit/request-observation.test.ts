import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ScoringJob, ScoringReply } from '../../libs/contracts/src/index.js';
import type { CatalogEntry, ScoringTransport } from '../../libs/runtime/src/index.js';
import { Tracing } from '../../libs/telemetry/src/index.js';
import { instrumentTransport } from '../../apps/api/src/observability/instrument-transport.js';
import { jobObservations, type RequestObservation } from '../../apps/api/src/observability/request-scope.js';

const job = (id: string, over: Partial<ScoringJob> = {}): ScoringJob => ({
  id,
  requestId: `req-${id}`,
  model: 'sum',
  kind: 'tensors',
  inputs: [],
  replyTo: 'test',
  deadline: Date.now() + 1000,
  acceptedAt: Date.now(),
  ...over,
});

/** A transport that answers every job at once and can enqueue (the async path). */
function fakeTransport(): ScoringTransport & { enqueue(job: ScoringJob): Promise<void>; enqueued: string[] } {
  const enqueued: string[] = [];
  return {
    replyTo: 'test',
    inFlight: 0,
    enqueued,
    submit: async (j: ScoringJob): Promise<ScoringReply> => ({
      id: j.id,
      ok: true,
      model: j.model,
      version: '2',
      outputs: [],
      timings: { queue: 0, preprocess: 0, inference: 0, batchSize: 1 },
    }),
    enqueue: async (j: ScoringJob) => void enqueued.push(j.id),
    queueDepth: () => 0,
    catalog: async () => new Map<string, CatalogEntry>(),
    isHealthy: () => true,
    close: async () => undefined,
  } as unknown as ScoringTransport & { enqueue(job: ScoringJob): Promise<void>; enqueued: string[] };
}

/** An instrumented fake transport, as the API wires the real one. */
function instrumented(): ReturnType<typeof fakeTransport> {
  const transport = fakeTransport();
  instrumentTransport(transport, Tracing.get());
  return transport;
}

/** A job with an observation noted for it, as ScoringService notes one. */
function observed(id: string, over: Partial<ScoringJob> = {}): { job: ScoringJob; observation: RequestObservation } {
  const noted = { job: job(id, over), observation: {} as RequestObservation };
  jobObservations.set(noted.job, noted.observation);
  return noted;
}

describe('request observations', () => {
  it('label the request by its job and reply, and leave no entry behind once the job is submitted', async () => {
    const transport = instrumented();
    const { job: scored, observation } = observed('a');
    const reply = await transport.submit(scored);
    assert.equal(observation.job, scored);
    assert.equal(observation.reply, reply);
    // An entry left to wait for its key's death kept the whole request alive through every
    // young-generation collection (see takeJobObservation).
    assert.equal(jobObservations.has(scored), false);
  });

  it('do the same for async jobs, and let a mirrored copy label nothing', async () => {
    const transport = instrumented();
    const { job: queued, observation } = observed('b');
    await transport.enqueue(queued);
    assert.deepEqual(transport.enqueued, ['b']);
    assert.equal(observation.job, queued);
    assert.equal(jobObservations.has(queued), false);

    const { job: copy, observation: mirrored } = observed('c', { mirror: true });
    await transport.submit(copy);
    assert.equal(mirrored.job, undefined);
    assert.equal(jobObservations.has(copy), false);
  });
});
