import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { crc32, deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { sumRequest } from './support/http.js';
import { Fleet } from './support/fleet.js';
import { send, statusCounts, type Outcome } from './support/load.js';
import { REFERENCE_MODELS, removeRepo, tempRepo } from './support/model-repo.js';
import { FIXTURE_MODELS, type ServiceProcess } from './support/processes.js';

interface Case {
  what: string;
  path: string;
  body?: string | Buffer;
  contentType?: string;
  method?: string;
  status: number;
  error: RegExp;
  /** Send to the API with BODY_LIMIT_BYTES=65536. */
  small?: boolean;
}

/**
 * Bad input is refused with a 4xx JSON `{"error": ...}` that names the problem, never a 5xx or
 * a crash: malformed tensors, bodies, images and content types, and unknown models and routes.
 * Embedded APIs: the same validation and model servers as the distributed topology.
 */
describe('bad input is refused with 4xx JSON naming the problem', () => {
  const fleet = new Fleet();
  let repo: string;
  let api: ServiceProcess;
  let small: ServiceProcess;
  const cases: Case[] = [];

  before(async () => {
    repo = await tempRepo([
      { name: 'faq', from: join(REFERENCE_MODELS, 'faq') },
      { name: 'fashion', from: join(REFERENCE_MODELS, 'fashion') },
      { name: 'sum', from: join(FIXTURE_MODELS, 'sum') },
    ]);
    [api, small] = await Promise.all([
      fleet.api({ MODEL_REPOSITORY: repo }),
      fleet.api({ MODEL_REPOSITORY: repo, EMBEDDED_MODELS: 'sum', BODY_LIMIT_BYTES: '65536' }),
    ]);
  });

  after(async () => {
    await fleet.stopAll();
    await removeRepo(repo);
  });

  const infer = '/v2/models/sum/infer';
  const json = (v: unknown): string => JSON.stringify(v);
  const withInput = (patch: object, rows = 1): string => {
    const base = sumRequest(Array(rows * 4).fill(1), Array(rows * 4).fill(2)) as { inputs: object[] };
    return json({ inputs: [{ ...base.inputs[0], shape: [rows, 4], ...patch }, base.inputs[1]] });
  };
  const row = (n: number): number[] => Array.from({ length: n * 4 }, (_, i) => i);

  cases.push(
    {
      what: 'wrong datatype',
      path: infer,
      body: withInput({ datatype: 'INT32' }),
      status: 400,
      error: /input 'a': datatype INT32 does not match the model's FP32/,
    },
    {
      what: 'unknown datatype',
      path: infer,
      body: withInput({ datatype: 'FLOAT' }),
      status: 400,
      error: /input 'a': unknown datatype "FLOAT"/,
    },
    {
      what: 'wrong shape',
      path: infer,
      body: withInput({ shape: [1, 5], data: [1, 2, 3, 4, 5] }),
      status: 400,
      error: /input 'a': shape \[1, 5\] does not match the model shape \[-1, 4\]/,
    },
    {
      what: 'shape and data disagree',
      path: infer,
      body: withInput({ shape: [2, 4] }),
      status: 400,
      error: /batch size 2 differs|expected 8 elements/,
    },
    {
      what: '"NaN" strings as FP32 data',
      path: infer,
      body: withInput({ data: ['NaN', 'NaN', 1, 2] }),
      status: 400,
      error: /input 'a': element 0 is not a finite number \(got "NaN"\)/,
    },
    {
      what: 'empty batch (shape [0, 4])',
      path: infer,
      body: json({
        inputs: [
          { name: 'a', datatype: 'FP32', shape: [0, 4], data: [] },
          { name: 'b', datatype: 'FP32', shape: [0, 4], data: [] },
        ],
      }),
      status: 400,
      error: /empty batch/,
    },
    {
      what: 'batch over max_batch_size (9 > 8)',
      path: infer,
      body: json({
        inputs: [
          { name: 'a', datatype: 'FP32', shape: [9, 4], data: row(9) },
          { name: 'b', datatype: 'FP32', shape: [9, 4], data: row(9) },
        ],
      }),
      status: 400,
      error: /batch of 9 rows exceeds the model's max_batch_size 8/,
    },
    {
      what: 'missing input',
      path: infer,
      body: json({ inputs: [{ name: 'a', datatype: 'FP32', shape: [1, 4], data: [1, 2, 3, 4] }] }),
      status: 400,
      error: /missing 'b'/,
    },
    {
      what: 'unknown output',
      path: infer,
      body: json({ ...(sumRequest([1, 2, 3, 4], [1, 2, 3, 4]) as object), outputs: [{ name: 'product' }] }),
      status: 400,
      error: /output 'product': model 'sum' has no such output/,
    },
    {
      what: 'priority out of range',
      path: infer,
      body: json({ ...(sumRequest([1, 2, 3, 4], [1, 2, 3, 4]) as object), parameters: { priority: -1 } }),
      status: 400,
      error: /priority: must be an integer/,
    },
    {
      what: 'timeout_ms not positive',
      path: infer,
      body: json({ ...(sumRequest([1, 2, 3, 4], [1, 2, 3, 4]) as object), parameters: { timeout_ms: 0 } }),
      status: 400,
      error: /timeout_ms: must be a positive number/,
    },
    {
      what: 'body over BODY_LIMIT_BYTES (65536)',
      path: infer,
      body: json({ id: 'x'.repeat(70_000), inputs: [] }),
      status: 413,
      error: /larger than the limit/,
      small: true,
    },
    {
      what: 'malformed JSON',
      path: infer,
      body: '{"inputs": [',
      status: 400,
      error: /malformed JSON/,
    },
    {
      what: 'JSON nested 100000 levels deep',
      path: infer,
      body: '['.repeat(100_000) + ']'.repeat(100_000),
      status: 400,
      error: /nested deeper than/,
    },
    {
      what: 'text/plain body',
      path: infer,
      body: 'a=1',
      contentType: 'text/plain',
      status: 415,
      error: /unsupported content type/,
    },
    {
      what: 'application/xml body',
      path: infer,
      body: '<inputs/>',
      contentType: 'application/xml',
      status: 415,
      error: /unsupported content type/,
    },
    {
      what: 'text/plain to a friendly route',
      path: '/v1/models/faq:predict',
      body: 'how do closures work',
      contentType: 'text/plain',
      status: 415,
      error: /unsupported content type/,
    },
    {
      what: 'invalid base64 image',
      path: '/v1/models/fashion:predict',
      body: json({ image: '!!!' }),
      status: 400,
      error: /image: invalid base64/,
    },
    {
      what: 'non-image bytes as image/png',
      path: '/v1/models/fashion:predict',
      body: Buffer.from('this is not a picture at all'),
      contentType: 'image/png',
      status: 415,
      error: /not a JPEG, PNG, WebP, GIF or TIFF image/,
    },
    {
      what: 'unknown model',
      path: '/v2/models/nope/infer',
      body: json(sumRequest([1, 2, 3, 4], [1, 2, 3, 4])),
      status: 404,
      error: /model 'nope' not found/,
    },
    {
      what: 'unknown version',
      path: '/v2/models/sum/versions/9/infer',
      body: json(sumRequest([1, 2, 3, 4], [1, 2, 3, 4])),
      status: 404,
      error: /model 'sum' has no version '9'/,
    },
    {
      what: 'unknown model metadata',
      path: '/v2/models/nope',
      method: 'GET',
      status: 404,
      error: /model 'nope' not found/,
    },
    { what: 'unknown route', path: '/v2/nothing/here', method: 'GET', status: 404, error: /Cannot GET/ },
    {
      what: 'unknown friendly verb',
      path: '/v1/models/faq:explain',
      body: json({ text: 'hi' }),
      status: 404,
      error: /expected '<name>:predict'/,
    },
    {
      what: 'text to an image model',
      path: '/v1/models/fashion:predict',
      body: json({ text: 'a shoe' }),
      status: 400,
      error: /takes images/,
    },
    {
      what: 'friendly priority not an integer',
      path: '/v1/models/faq:predict',
      body: json({ text: 'what is a closure', parameters: { priority: 1.5 } }),
      status: 400,
      error: /priority/,
    },
  );

  async function run(c: Case): Promise<Outcome> {
    const target = c.small ? small : api;
    return send(target.url + c.path, c.method === 'GET' ? undefined : c.body, {
      method: c.method ?? 'POST',
      headers: c.contentType ? { 'content-type': c.contentType } : {},
      timeoutMs: 60_000,
    });
  }

  function check(c: Case, o: Outcome): void {
    assert.equal(o.status, c.status, `${c.what}: status ${o.status} ${JSON.stringify(o.body)}`);
    assert.equal(typeof o.body?.error, 'string', `${c.what}: JSON {"error": string} (got ${JSON.stringify(o.body)})`);
    assert.match(o.body.error, c.error, c.what);
  }

  it('refuses malformed tensors, bodies, content types, models and routes', () =>
    fleet.explain(async () => {
      const outcomes: Outcome[] = [];
      for (const c of cases) {
        const o = await run(c);
        outcomes.push(o);
        console.log(`# ${c.what}: ${o.status} ${JSON.stringify(o.body?.error ?? o.body).slice(0, 140)}`);
      }
      for (const [i, c] of cases.entries()) check(c, outcomes[i]!);
      const counts = statusCounts(outcomes);
      console.log(
        `# sent ${outcomes.length}, refused ${JSON.stringify(counts)}, 5xx ${outcomes.filter((o) => o.status >= 500).length}, lost 0`,
      );
    }));

  it('refuses images that are truncated or claim huge dimensions', () =>
    fleet.explain(async () => {
      const png = await sharp({ create: { width: 28, height: 28, channels: 3, background: { r: 9, g: 9, b: 9 } } })
        .png()
        .toBuffer();
      const good = await send(`${api.url}/v1/models/fashion:predict`, png, {
        headers: { 'content-type': 'image/png' },
      });
      assert.equal(good.status, 200, `the intact image is fine: ${JSON.stringify(good.body)}`);
      const imageCases: Case[] = [
        {
          what: 'truncated PNG',
          path: '/v1/models/fashion:predict',
          body: png.subarray(0, Math.floor(png.length / 2)),
          contentType: 'image/png',
          status: 400,
          error: /cannot decode image \(corrupt or truncated\)/,
        },
        {
          what: 'truncated PNG as base64 JSON',
          path: '/v1/models/fashion:predict',
          body: json({ image: png.subarray(0, Math.floor(png.length / 2)).toString('base64') }),
          status: 400,
          error: /cannot decode image/,
        },
        {
          what: 'PNG whose IHDR claims 50000×50000',
          path: '/v1/models/fashion:predict',
          body: hugePng(50_000, 50_000),
          contentType: 'image/png',
          status: 413,
          error: /image dimensions exceed the limit/,
        },
      ];
      for (const c of imageCases) {
        const o = await run(c);
        console.log(`# ${c.what}: ${o.status} ${JSON.stringify(o.body?.error ?? o.body).slice(0, 140)}`);
        check(c, o);
      }
      // Still up and serving.
      const again = await send(`${api.url}${infer}`, sumRequest([1, 2, 3, 4], [1, 1, 1, 1]));
      assert.equal(again.status, 200);
      assert.equal(api.child.exitCode, null);
      console.log(`# sent ${imageCases.length + 2}, succeeded 2, refused ${imageCases.length}, lost 0`);
    }));
});

/** A PNG that is valid up to a header claiming `width`×`height` pixels (8-bit greyscale). */
function hugePng(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer): Buffer => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const typed = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(typed));
    return Buffer.concat([len, typed, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // greyscale
  return Buffer.concat([
    Buffer.from('\x89PNG\r\n\x1a\n', 'latin1'),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.alloc(16))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}
