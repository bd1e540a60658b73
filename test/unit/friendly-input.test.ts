import 'reflect-metadata';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ValidationPipe } from '@nestjs/common';
import { commonTextBody } from '../../apps/api/src/inference/friendly-input.js';
import { PredictRequestDto } from '../../apps/api/src/inference/predict-request.dto.js';

/** The pipe readFriendlyInput falls back to, with the same options. */
const pipe = new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true });

async function pipeResult(body: unknown): Promise<PredictRequestDto | Error> {
  try {
    return (await pipe.transform(body, { type: 'body', metatype: PredictRequestDto })) as PredictRequestDto;
  } catch (err) {
    return err as Error;
  }
}

/** Bodies near the common shapes: the right keys with wrong values, extra keys, nesting. */
const value = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.oneof(fc.string({ maxLength: 8 }), fc.integer(), fc.constant(null)), { maxLength: 4 }),
  fc.dictionary(fc.constantFrom('top_k', 'x'), fc.integer({ min: -2, max: 5 }), { maxKeys: 2 }),
);
const body = fc.oneof(
  fc.dictionary(fc.constantFrom('text', 'texts', 'image', 'images', 'parameters', 'extra'), value, { maxKeys: 3 }),
  value,
);

describe('commonTextBody', () => {
  it('passes only bodies the ValidationPipe accepts, with the same texts', async () => {
    await fc.assert(
      fc.asyncProperty(body, async (b) => {
        const quick = commonTextBody(b);
        if (!quick) return;
        const dto = await pipeResult(b);
        assert.ok(!(dto instanceof Error), `quick path passed a body the pipe refuses: ${JSON.stringify(b)}`);
        assert.deepEqual(quick.texts, dto.text !== undefined ? [dto.text] : dto.texts);
      }),
      { numRuns: 2000 },
    );
  });

  it('takes the common bodies itself', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        assert.deepEqual(commonTextBody({ text }), { texts: [text] });
      }),
    );
    fc.assert(
      fc.property(fc.array(fc.string(), { minLength: 1, maxLength: 40 }), (texts) => {
        assert.deepEqual(commonTextBody({ texts }), { texts });
      }),
    );
  });

  it('leaves everything else to the pipe, whose errors name the problem', async () => {
    const declined = [
      { text: 'a', parameters: { top_k: 2 } },
      { text: 'x'.repeat(1_000_001) },
      { texts: [] },
      { texts: ['a', 3] },
      { texts: new Array<string>(4097).fill('a') },
      { text: 5 },
      { image: 'aGk=' },
      Object.assign(Object.create({ inherited: true }) as object, { text: 'a' }),
      ['text'],
      'text',
      null,
    ];
    for (const b of declined) assert.equal(commonTextBody(b), undefined, JSON.stringify(b)?.slice(0, 60));
    const err = await pipeResult({ texts: ['a', 3] });
    assert.ok(err instanceof Error);
    assert.match(JSON.stringify((err as { getResponse?: () => unknown }).getResponse?.()), /texts/);
  });
});
