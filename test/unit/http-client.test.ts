import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { after, before, describe, it } from 'node:test';
import {
  BadRequestError,
  ClientTimeoutError,
  ForbiddenError,
  GatewayTimeoutError,
  NotFoundError,
  parseRetryAfter,
  ServiceUnavailableError,
  SwitchyardError,
  SwitchyardHttpClient,
  TooManyRequestsError,
  UnauthorizedError,
} from '../../libs/client/src/http/index.js';

type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void;

/** A stub Switchyard: each test sets the handler; every request is recorded. */
describe('SwitchyardHttpClient', () => {
  let server: Server;
  let handler: Handler = (_req, _body, res) => res.end('{}');
  const seen: { method: string; url: string; headers: IncomingMessage['headers']; body: string; at: number }[] = [];
  let baseUrl = '';

  before(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        seen.push({ method: req.method!, url: req.url!, headers: req.headers, body, at: Date.now() });
        res.setHeader('content-type', 'application/json');
        handler(req, body, res);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    baseUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
  });

  after(() => {
    server.closeAllConnections();
    server.close();
  });

  const reset = (h: Handler) => {
    seen.length = 0;
    handler = h;
  };
  const answer =
    (status: number, body: unknown, headers: Record<string, string> = {}) =>
    (_q: IncomingMessage, _b: string, res: ServerResponse) => {
      for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
      res.statusCode = status;
      res.end(JSON.stringify(body));
    };

  it('scores with the friendly route, sending the key and parameters', async () => {
    reset(answer(200, { model: 'faq', version: '1', predictions: [[]], timings_ms: {} }));
    const client = new SwitchyardHttpClient({ baseUrl, apiKey: 'k-123' });
    const out = await client.score('faq', { text: 'hi' }, { version: '1', topK: 3, deadlineMs: 500, priority: 2 });
    assert.equal(out.model, 'faq');
    assert.equal(seen[0]!.url, '/v1/models/faq/versions/1:predict');
    assert.equal(seen[0]!.headers.authorization, 'Bearer k-123');
    assert.deepEqual(JSON.parse(seen[0]!.body), { text: 'hi', parameters: { top_k: 3, timeout_ms: 500, priority: 2 } });
  });

  it('submits async jobs with Prefer and a callback, and reads them back', async () => {
    reset(answer(202, { id: 'j1', status: 'queued', location: '/v1/jobs/j1' }));
    const client = new SwitchyardHttpClient({ baseUrl });
    assert.deepEqual(await client.scoreAsync('faq', { texts: ['a'] }, { callbackUrl: 'http://h/cb' }), {
      id: 'j1',
      location: '/v1/jobs/j1',
    });
    assert.equal(seen[0]!.headers.prefer, 'respond-async');
    assert.deepEqual(JSON.parse(seen[0]!.body), { texts: ['a'], parameters: { callback_url: 'http://h/cb' } });
    let polls = 0;
    reset((_q, _b, res) =>
      res.end(JSON.stringify({ id: 'j1', status: ++polls < 3 ? 'running' : 'succeeded', result: { ok: 1 } })),
    );
    const done = await client.waitForJob('j1', { pollMs: 10, timeoutMs: 5000 });
    assert.equal(done.status, 'succeeded');
    assert.equal(seen.length, 3);
    reset(answer(200, { id: 'j1', status: 'running' }));
    await assert.rejects(client.waitForJob('j1', { pollMs: 20, timeoutMs: 100 }), ClientTimeoutError);
  });

  it('sends OIP infer requests to the versioned route', async () => {
    reset(answer(200, { model_name: 'sum', model_version: '1', id: 'x', outputs: [] }));
    const client = new SwitchyardHttpClient({ baseUrl });
    const out = await client.infer(
      'sum',
      { inputs: [{ name: 'a', datatype: 'FP32', shape: [1], data: [1] }] },
      { version: '1' },
    );
    assert.equal(out.model_version, '1');
    assert.equal(seen[0]!.url, '/v2/models/sum/versions/1/infer');
  });

  it('retries 429 and 503 after Retry-After, then succeeds', async () => {
    let n = 0;
    reset((_q, _b, res) => {
      n++;
      if (n === 1) answer(429, { error: 'busy' }, { 'retry-after': '1' })(_q, _b, res);
      else if (n === 2) answer(503, { error: 'not ready' }, { 'retry-after': '0' })(_q, _b, res);
      else answer(200, { id: 'j', status: 'queued' })(_q, _b, res);
    });
    const client = new SwitchyardHttpClient({ baseUrl, retries: 2 });
    assert.equal((await client.getJob('j')).status, 'queued');
    assert.equal(seen.length, 3);
    const waited = seen[1]!.at - seen[0]!.at;
    // Upper bounds here only tell seconds from minutes: a starved CI host delays timers by seconds.
    assert.ok(waited >= 950 && waited < 20_000, `waited ${waited} ms for Retry-After: 1`);
  });

  it('bounds retries and the Retry-After wait, then throws the typed error', async () => {
    reset(answer(429, { error: 'overloaded' }, { 'retry-after': '3600' }));
    const client = new SwitchyardHttpClient({ baseUrl, retries: 1, maxRetryDelayMs: 50 });
    const started = Date.now();
    await assert.rejects(client.getJob('j'), (err: unknown) => {
      assert.ok(err instanceof TooManyRequestsError);
      assert.equal(err.status, 429);
      assert.equal(err.message, 'overloaded');
      assert.equal(err.retryAfterS, 3600);
      return true;
    });
    assert.equal(seen.length, 2);
    assert.ok(Date.now() - started < 20_000, 'waited the 50 ms cap, not the hour Retry-After asked');
  });

  it('maps statuses to typed errors and does not retry them', async () => {
    const cases: [number, new (...a: any[]) => SwitchyardError][] = [
      [400, BadRequestError],
      [401, UnauthorizedError],
      [403, ForbiddenError],
      [404, NotFoundError],
      [503, ServiceUnavailableError],
      [504, GatewayTimeoutError],
      [500, SwitchyardError],
    ];
    const client = new SwitchyardHttpClient({ baseUrl, retries: 0 });
    for (const [status, Type] of cases) {
      reset(answer(status, { error: `e${status}` }));
      await assert.rejects(
        client.getJob('x'),
        (err: unknown) =>
          err instanceof Type && (err as SwitchyardError).status === status && (err as Error).message === `e${status}`,
      );
      assert.equal(seen.length, 1);
    }
  });

  it('times a request out with ClientTimeoutError (status 0)', async () => {
    reset(() => undefined); // never answers
    const client = new SwitchyardHttpClient({ baseUrl, timeoutMs: 100, retries: 3 });
    const started = Date.now();
    await assert.rejects(
      client.getJob('slow'),
      (err: unknown) => err instanceof ClientTimeoutError && (err as SwitchyardError).status === 0,
    );
    assert.ok(Date.now() - started < 20_000, 'gave up after its 100 ms timeout, did not hang');
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(seen.length <= 1, 'a timeout is not retried');
    server.closeAllConnections();
  });

  it('reads Retry-After as seconds or an HTTP date', () => {
    assert.equal(parseRetryAfter('7'), 7);
    assert.equal(parseRetryAfter(new Date(10_000).toUTCString(), 4_000), 6);
    assert.equal(parseRetryAfter('soon'), undefined);
    assert.equal(parseRetryAfter(null), undefined);
  });
});
