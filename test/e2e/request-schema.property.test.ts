import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { Fleet } from './support/fleet.js';
import { send, statusCounts, type Outcome } from './support/load.js';
import { FIXTURE_MODELS, type ServiceProcess } from './support/processes.js';

const DATATYPES = ['BOOL', 'UINT8', 'UINT16', 'UINT32', 'UINT64', 'INT8', 'INT16', 'INT32', 'INT64'];
const ALL_DATATYPES = [...DATATYPES, 'FP16', 'FP32', 'FP64', 'BYTES'];

/** Any JSON-ish junk: a value of the wrong kind wherever it lands. */
const junk: fc.Arbitrary<unknown> = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom('NaN', 'Infinity', '-1', '', '1e999', '__proto__'),
  fc.array(fc.oneof(fc.integer(), fc.string({ maxLength: 4 }), fc.constant(null)), { maxLength: 4 }),
  fc.dictionary(fc.string({ maxLength: 6 }), fc.oneof(fc.integer(), fc.string({ maxLength: 4 })), { maxKeys: 3 }),
);

const f32 = fc.float({ min: Math.fround(-1e30), max: Math.fround(1e30), noNaN: true });

type Body = any;

/** A valid `sum` request: 1..8 rows of a and b, flat or nested data, optional id/outputs/parameters. */
const validRequest: fc.Arbitrary<Body> = fc
  .record({ rows: fc.integer({ min: 1, max: 8 }), nested: fc.boolean() })
  .chain(({ rows, nested }) => {
    const tensor = (name: string): fc.Arbitrary<Body> =>
      fc.array(f32, { minLength: rows * 4, maxLength: rows * 4 }).map((data) => ({
        name,
        datatype: 'FP32',
        shape: [rows, 4],
        data: nested ? Array.from({ length: rows }, (_, r) => data.slice(r * 4, r * 4 + 4)) : data,
      }));
    return fc.record(
      {
        a: tensor('a'),
        b: tensor('b'),
        swap: fc.boolean(),
        id: fc.string({ maxLength: 20 }),
        outputs: fc.subarray([{ name: 'sum' }, { name: 'diff' }], { minLength: 1 }),
        parameters: fc.record(
          { timeout_ms: fc.integer({ min: 2000, max: 60_000 }), priority: fc.integer({ min: 0, max: 10 }) },
          { requiredKeys: [] },
        ),
      },
      { requiredKeys: ['a', 'b', 'swap'] },
    );
  })
  .map(({ a, b, swap, ...rest }) => ({ ...rest, inputs: swap ? [b, a] : [a, b] }));

type Mutation = (body: Body) => Body;

const onInput = (f: (input: Body, body: Body) => void): fc.Arbitrary<Mutation> =>
  fc.nat(1).map((which) => (body: Body) => {
    const input = body?.inputs?.[which];
    if (input && typeof input === 'object') f(input, body);
    return body;
  });

/** Changes the inputs array, when the body still has one. */
const onInputs = (f: (inputs: Body[]) => Body[]): fc.Arbitrary<Mutation> =>
  fc.constant((body: Body) => (Array.isArray(body?.inputs) ? { ...body, inputs: f(body.inputs) } : body));

/** One way of breaking (or harmlessly changing) a request. */
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  // names
  fc.oneof(junk, fc.constantFrom('c', '', 'A', 'sum', 'a ')).chain((v) => onInput((input) => (input.name = v))),
  // datatypes: every real one, and junk
  fc
    .oneof(fc.constantFrom(...ALL_DATATYPES, 'fp32', 'FLOAT', 'FP8', ' FP32'), junk)
    .chain((v) => onInput((input) => (input.datatype = v))),
  // shapes: negative, huge, fractional, wrong rank, junk
  fc
    .oneof(
      fc.array(fc.integer({ min: -3, max: 12 }), { maxLength: 4 }),
      fc.constantFrom([1, 4.5], [-1, 4], [2 ** 53, 4], [1e9, 4], [1, 4, 1], [4], [], ['1', '4'], [[1], [4]], [1, -4]),
      fc.array(fc.integer({ min: 1, max: 2 }), { minLength: 65, maxLength: 70 }),
      junk,
    )
    .chain((v) => onInput((input) => (input.shape = v))),
  // data: wrong kinds, lengths, nesting
  fc
    .oneof(
      junk,
      fc.array(junk, { maxLength: 8 }),
      fc.array(fc.double(), { maxLength: 12 }),
      fc.constantFrom(
        ['NaN', 1, 2, 3],
        [1e39, 1, 2, 3],
        [[[1, 2, 3, 4]]],
        [
          [1, 2],
          [3, 4],
        ],
        [true, false, true, false],
        [null, null, null, null],
        [[1, 2, 3, 4], 5],
        {},
      ),
    )
    .chain((v) => onInput((input) => (input.data = v))),
  onInput((input) => (input.data = [...flat(input.data), 0])),
  onInput((input) => (input.data = flat(input.data).slice(1))),
  onInput((input) => (input.data = [input.data])),
  onInput((input) => (input.data = flat(input.data).map(String))),
  // fields removed, added, replaced
  fc.constantFrom('name', 'datatype', 'shape', 'data').chain((field) => onInput((input) => delete input[field])),
  fc.tuple(fc.string({ maxLength: 8 }), junk).chain(([k, v]) => onInput((input) => (input[k] = v))),
  onInputs((inputs) => inputs.slice(0, 1)),
  onInputs((inputs) => [...inputs, inputs[0]]),
  onInputs((inputs) => [...inputs, { ...inputs[0], name: 'c' }]),
  fc.constant((body: Body) => ({ ...body, inputs: [] })),
  junk.map((v) => (body: Body) => ({ ...body, inputs: v })),
  fc.constant((body: Body) => {
    const { inputs: _inputs, ...rest } = body;
    return rest;
  }),
  fc.tuple(fc.string({ maxLength: 8 }), junk).map(([k, v]) => (body: Body) => ({ ...body, [k]: v })),
  fc
    .oneof(junk, fc.constant([{ name: 'nope' }]), fc.constant([{}]), fc.constant('sum'), fc.constant([null]))
    .map((v) => (body: Body) => ({ ...body, outputs: v })),
  fc
    .oneof(
      junk,
      junk.map((v) => ({ timeout_ms: v })),
      junk.map((v) => ({ priority: v })),
      fc.constantFrom({ priority: 2 ** 22 }, { priority: 1.5 }, { timeout_ms: -5 }, { timeout_ms: 'soon' }),
    )
    .map((v) => (body: Body) => ({ ...body, parameters: v })),
  fc.oneof(junk, fc.constant('x'.repeat(300))).map((v) => (body: Body) => ({ ...body, id: v })),
  // not an object at all
  fc.constantFrom(null, [], 42, 'inputs', true).map((v) => () => v),
);

/** A mix: about a third valid requests, the rest with one to three mutations. */
const requestBody: fc.Arbitrary<Body> = fc
  .tuple(
    validRequest,
    fc.oneof(
      { weight: 1, arbitrary: fc.constant([]) },
      { weight: 2, arbitrary: fc.array(mutation, { minLength: 1, maxLength: 3 }) },
    ),
  )
  .map(([body, mutations]) => mutations.reduce((b: Body, m: Mutation) => m(b), structuredClone(body)));

function flat(data: unknown): unknown[] {
  return Array.isArray(data) ? data.flat(Infinity) : [data];
}

/** For a 200: every output is right for the request's own a and b (FP32 arithmetic). */
function checkOutputs(body: Body, res: Outcome): void {
  const a = flat(body.inputs.find((i: Body) => i.name === 'a').data).map((v) => Math.fround(v as number));
  const b = flat(body.inputs.find((i: Body) => i.name === 'b').data).map((v) => Math.fround(v as number));
  const requested = Array.isArray(body.outputs) ? body.outputs.map((o: Body) => o.name).sort() : ['diff', 'sum'];
  const outputs = res.body.outputs as { name: string; datatype: string; shape: number[]; data: number[] }[];
  assert.deepEqual(outputs.map((o) => o.name).sort(), [...new Set(requested)].sort(), 'the requested outputs');
  for (const o of outputs) {
    assert.equal(o.datatype, 'FP32');
    assert.deepEqual(o.shape, [a.length / 4, 4]);
    // Version 2 (the latest, served by default) computes diff = b - a.
    const expected = a.map((x, i) => Math.fround(o.name === 'sum' ? x + b[i]! : b[i]! - x));
    const actual = flat(o.data) as number[];
    assert.equal(actual.length, expected.length);
    // `===`, not Object.is: JSON has no -0.
    assert.ok(
      expected.every((e, i) => e === actual[i]),
      `${o.name}: got ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)} for ${JSON.stringify(body)}`,
    );
  }
  assert.equal(res.body.model_version, '2');
  if (typeof body.id === 'string') assert.equal(res.body.id, body.id);
}

/**
 * Property: whatever body is POSTed to `/v2/models/sum/infer`, the answer is a 200 with correct
 * outputs, or a 4xx with a JSON `{"error": string}`; never a 5xx, never a hang. Seeded, so a
 * failure reproduces; fast-check shrinks it to a small counterexample.
 */
describe('OIP request schema (property-based)', () => {
  const fleet = new Fleet();
  let api: ServiceProcess;
  const seen: Outcome[] = [];

  before(async () => {
    api = await fleet.api({ MODEL_REPOSITORY: FIXTURE_MODELS, EMBEDDED_MODELS: 'sum' });
  });

  after(async () => {
    await fleet.stopAll();
  });

  it('answers every generated body with 200 (correct) or 4xx JSON, never 5xx or a hang', () =>
    fleet.explain(async () => {
      const url = `${api.url}/v2/models/sum/infer`;
      await fc.assert(
        fc.asyncProperty(requestBody, async (body) => {
          const res = await send(url, JSON.stringify(body) ?? 'null', { timeoutMs: 30_000 });
          seen.push(res);
          assert.notEqual(res.status, 0, `no answer (${res.error})`);
          if (res.status === 200) {
            checkOutputs(body, res);
          } else {
            assert.ok(res.status >= 400 && res.status < 500, `status ${res.status}: ${JSON.stringify(res.body)}`);
            assert.equal(typeof res.body?.error, 'string', `JSON {"error": string}, got ${JSON.stringify(res.body)}`);
          }
        }),
        { seed: 42, numRuns: 300 },
      );
      const counts = statusCounts(seen);
      console.log(
        `# property runs: sent ${seen.length}, succeeded ${counts[200] ?? 0}, refused ${JSON.stringify(
          Object.fromEntries(Object.entries(counts).filter(([s]) => s !== '200')),
        )}, lost ${counts[0] ?? 0}; distinct error messages ${
          new Set(seen.filter((o) => o.status !== 200).map((o) => String(o.body?.error).replace(/-?\d[\d.e+-]*/g, 'N')))
            .size
        }`,
      );
      assert.ok((counts[200] ?? 0) > 0 && (counts[400] ?? 0) > 0, 'both valid and invalid bodies were generated');
      assert.equal(api.child.exitCode, null);
    }));
});
