import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { installAccessLog, requestTraceIds } from '../../libs/telemetry/src/index.js';

/** The API's access log on a bare Fastify app: what each line holds, and what gets no line. */
describe('access log', () => {
  const lines: Record<string, any>[] = [];
  let app: FastifyInstance;

  before(async () => {
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(JSON.parse(chunk.toString()) as Record<string, any>);
        done();
      },
    });
    // Like pino-http's root logger: serializers for raw requests under `req` and `res`.
    const root = pino({ serializers: { req: () => 'raw request', res: () => 'raw response' } }, sink);
    let n = 0;
    app = Fastify({ genReqId: () => `req-${++n}` });
    installAccessLog(app, () => root);
    app.addHook('onRequest', (request, _reply, done) => {
      if (request.url === '/traced') requestTraceIds.set(request.raw, 'trace-1');
      done();
    });
    app.get('/ok', async () => ({ ok: true }));
    app.get('/traced', async () => ({ ok: true }));
    app.get('/boom', async (_request, reply) => reply.code(500).send({ error: 'boom' }));
    app.get('/v2/health/ready', async () => ({ ready: true }));
    app.get('/metrics', async () => 'metrics');
    await app.ready();
  });

  after(() => app.close());

  it('writes one line per request: ids, method, URL, status and time, never headers', async () => {
    await app.inject({ url: '/ok?x=1', headers: { authorization: 'Bearer secret-1', cookie: 'c=secret-2' } });
    const line = lines.find((l) => l.req?.url === '/ok?x=1');
    assert.ok(line, JSON.stringify(lines));
    assert.equal(line.msg, 'request completed');
    assert.equal(line.level, 30);
    assert.equal(line.request_id, line.req.id);
    assert.deepEqual(Object.keys(line.req).sort(), ['id', 'method', 'remoteAddress', 'url']);
    assert.equal(line.req.method, 'GET');
    assert.deepEqual(line.res, { statusCode: 200 });
    assert.equal(typeof line.responseTime, 'number');
    assert.equal(line.trace_id, undefined);
    assert.ok(!JSON.stringify(lines).includes('secret'), 'no header reaches a line');
  });

  it('logs 5xx at error, carries the trace id of a traced request, and skips probes', async () => {
    await app.inject({ url: '/boom' });
    await app.inject({ url: '/traced' });
    await app.inject({ url: '/v2/health/ready' });
    await app.inject({ url: '/metrics' });
    const boom = lines.find((l) => l.req?.url === '/boom');
    assert.equal(boom?.level, 50);
    assert.equal(boom?.res.statusCode, 500);
    assert.equal(lines.find((l) => l.req?.url === '/traced')?.trace_id, 'trace-1');
    assert.ok(!lines.some((l) => /health|metrics/.test(String(l.req?.url))), 'probes are not logged');
  });

  it('at LOG_LEVEL=warn writes 5xx lines only', async () => {
    const quiet: Record<string, any>[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        quiet.push(JSON.parse(chunk.toString()) as Record<string, any>);
        done();
      },
    });
    const warnOnly = Fastify();
    installAccessLog(warnOnly, () => pino({ level: 'warn' }, sink));
    warnOnly.get('/ok', async () => ({ ok: true }));
    warnOnly.get('/boom', async (_request, reply) => reply.code(503).send({ error: 'boom' }));
    await warnOnly.inject({ url: '/ok' });
    await warnOnly.inject({ url: '/boom' });
    await warnOnly.close();
    assert.deepEqual(
      quiet.map((l) => [l.req?.url, l.level]),
      [['/boom', 50]],
    );
  });
});
