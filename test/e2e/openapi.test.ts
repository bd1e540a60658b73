import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { getJson } from './support/http.js';
import { FIXTURE_MODELS, startApi, type ServiceProcess } from './support/processes.js';

/** OpenAPI at /docs-json (embedded mode) and per-model request schemas derived from the signature. */
describe('OpenAPI document and model schemas', () => {
  let api: ServiceProcess;

  before(async () => {
    api = await startApi({ MODEL_REPOSITORY: FIXTURE_MODELS });
  });

  after(async () => {
    await api?.stop();
  });

  it('serves a valid OpenAPI 3 document with the main paths', async () => {
    const res = await getJson(`${api.url}/docs-json`);
    assert.equal(res.status, 200);
    const doc = res.body;
    assert.match(doc.openapi, /^3\.\d+\.\d+$/);
    assert.equal(doc.info.title, 'Switchyard');
    const paths = Object.keys(doc.paths);
    for (const path of [
      '/v2/models/{model}/infer',
      '/v2/models/{model}/schema',
      '/v1/endpoints/{endpoint}/score',
      '/v1/management/endpoints',
      '/v1/management/endpoints/{endpoint}/deployments/{deployment}',
      '/v1/management/models/{model}/versions',
    ]) {
      assert.ok(paths.includes(path), `missing ${path} in ${paths.join(', ')}`);
    }
    assert.ok(
      paths.some((p) => p.startsWith('/v1/models/{')),
      `no /v1/models/{...} path in ${paths.join(', ')}`,
    );
    assert.ok(!paths.some((p) => p.startsWith('/demo')), 'demo routes are excluded');
    for (const [path, item] of Object.entries<any>(doc.paths)) {
      for (const op of Object.values<any>(item)) {
        assert.ok(op.responses && Object.keys(op.responses).length > 0, `${path} has responses`);
        assert.ok(op.tags?.length > 0, `${path} is tagged`);
      }
    }
    const deployment = doc.components.schemas.DeploymentDto;
    assert.deepEqual(deployment.required.sort(), ['model', 'version']);
    assert.ok(doc.components.schemas.InferRequest_sum, 'per-model component for sum');
    const infer = doc.paths['/v2/models/{model}/infer'].post.requestBody;
    assert.ok(infer.content['application/json'], 'infer takes JSON');
    assert.deepEqual(infer.content['application/octet-stream'].schema, { type: 'string', format: 'binary' });
    assert.match(infer.description, /Inference-Header-Content-Length/);
    const ui = await fetch(`${api.url}/docs`);
    assert.equal(ui.status, 200);
    assert.match(await ui.text(), /swagger/i);
  });

  it('derives the infer body schema of sum from its signature', async () => {
    const res = await getJson(`${api.url}/v2/models/sum/schema`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const inputs = res.body.properties.inputs;
    assert.deepEqual(inputs.items.properties.name.enum, ['a', 'b']);
    const byName = Object.fromEntries(inputs.items.oneOf.map((s: any) => [s.properties.name.const, s]));
    assert.deepEqual(Object.keys(byName), ['a', 'b']);
    for (const name of ['a', 'b']) {
      assert.equal(byName[name].properties.datatype.const, 'FP32');
      assert.equal(byName[name].properties.shape.maxItems, 2);
      assert.deepEqual(byName[name].properties.shape.prefixItems[1], { const: 4 });
      assert.equal(byName[name].properties.data.type, 'array');
    }
    assert.equal((await getJson(`${api.url}/v2/models/nope/schema`)).status, 404);
  });
});
