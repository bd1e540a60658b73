import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { binaryTensorRequest } from '../../bench/in-process.js';
import { fashionScenario } from '../../bench/scenarios.js';
import { parseBinaryInferBody } from '../../apps/api/src/http/binary-body.js';

describe('benchmark: the tensor route of an image model', () => {
  it('sends the tensor the handler makes of the JPEG, as a binary OIP body', async () => {
    const shape = await binaryTensorRequest(fashionScenario());
    assert.equal(shape.route, 'oip');
    assert.equal(shape.path, '/v2/models/fashion/infer');
    assert.equal(shape.contentType, 'application/octet-stream');
    const body = shape.bodies[0] as Buffer;
    const parsed = parseBinaryInferBody(body, shape.headers!['inference-header-content-length']) as {
      inputs: { name: string; datatype: string; shape: number[]; data: Buffer }[];
      parameters: object;
    };
    const [input] = parsed.inputs;
    assert.deepEqual([input!.name, input!.datatype, input!.shape], ['input', 'FP32', [1, 1, 28, 28]]);
    assert.equal(input!.data.length, 28 * 28 * 4);
    const pixels = new Float32Array(
      input!.data.buffer.slice(input!.data.byteOffset, input!.data.byteOffset + input!.data.length),
    );
    assert.ok(
      pixels.some((v) => v !== pixels[0]),
      'a real image, not a constant',
    );
    assert.deepEqual(parsed.parameters, { binary_data_output: true });
  });
});
