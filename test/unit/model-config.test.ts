// The runtime's decorators (class-transformer's @Type) need the Reflect metadata API,
// which the apps' entry points load first; do the same here.
import 'reflect-metadata';
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../libs/runtime/src/repository/config-error.js';
import { loadModelConfig } from '../../libs/runtime/src/repository/model-config-loader.js';
import { ModelRepository } from '../../libs/runtime/src/repository/model-repository.js';
import ort from 'onnxruntime-node';
import { intraOpThreads, LoadedModel } from '../../libs/runtime/src/session/loaded-model.js';
import { availableCores } from '../../libs/runtime/src/session/available-cores.js';
import { ThreadedSession } from '../../libs/runtime/src/session/threaded-session.js';
import { SessionPool } from '../../libs/runtime/src/session/session-pool.js';
import { defaultConcurrency } from '../../libs/runtime/src/serving/worker-concurrency.js';

const FIXTURES = join(process.cwd(), 'test/fixtures/models');
const SUM_ONNX = join(FIXTURES, 'sum/1/model.onnx');
const NOBATCH_ONNX = join(FIXTURES, 'nobatch/1/model.onnx');

const SUM_IO = `
input:
  - { name: a, datatype: FP32, dims: [4] }
  - { name: b, datatype: FP32, dims: [4] }
output:
  - { name: sum, datatype: FP32, dims: [4] }
  - { name: diff, datatype: FP32, dims: [4] }
`;

let root: string;
let repo: ModelRepository;
let counter = 0;

/** Writes a model directory `<root>/<name>` with the given config files and version dirs. */
async function model(
  files: Record<string, string>,
  versions: number[] = [1],
  onnx = SUM_ONNX,
  name = `m${++counter}`,
): Promise<{ name: string; dir: string }> {
  const dir = join(root, name);
  await mkdir(dir, { recursive: true });
  for (const [file, text] of Object.entries(files)) await writeFile(join(dir, file), text);
  for (const v of versions) {
    await mkdir(join(dir, String(v)));
    await copyFile(onnx, join(dir, String(v), 'model.onnx'));
  }
  return { name, dir };
}

/** Asserts a ConfigError whose message matches every pattern. */
async function refuses(promise: Promise<unknown>, ...patterns: (RegExp | string)[]): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    for (const p of patterns) {
      if (typeof p === 'string') assert.ok(err.message.includes(p), `'${err.message}' should contain '${p}'`);
      else assert.match(err.message, p);
    }
    return true;
  });
}

const versionsOf = async (name: string, pin?: string): Promise<string[]> =>
  (await repo.resolve(name, pin)).versions.map((v) => v.version);

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'switchyard-config-'));
  repo = new ModelRepository(root);
});

after(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('loadModelConfig', () => {
  it('applies the defaults to a minimal YAML config', async () => {
    const { name, dir } = await model({ 'config.yaml': 'platform: onnxruntime_onnx\n' });
    const config = await loadModelConfig(dir, name);
    assert.equal(config.max_batch_size, 0);
    assert.equal(config.queue_policy.default_timeout_ms, 10_000);
    assert.equal(config.instance.device, 'cpu');
    assert.equal(config.handler.kind, 'tensor');
    assert.equal(config.dynamic_batching.max_queue_delay_ms, 0);
  });

  it('reads a JSON config', async () => {
    const { name, dir } = await model({
      'config.json': JSON.stringify({ max_batch_size: 4, instance: { intra_op_threads: 2 } }),
    });
    const config = await loadModelConfig(dir, name);
    assert.equal(config.max_batch_size, 4);
    assert.equal(config.instance.intra_op_threads, 2);
    assert.equal(config.instance.device, 'cpu');
  });

  it("gives a session one intra-op thread per core for intra_op_threads 0, not onnxruntime's own count", () => {
    assert.equal(intraOpThreads(0), availableCores());
    assert.equal(intraOpThreads(3), 3);
    // Shared among instance.count sessions, at least one each.
    assert.equal(intraOpThreads(0, availableCores()), 1);
    assert.equal(intraOpThreads(0, 2, 8), 4);
    assert.equal(intraOpThreads(0, 3, 8), 2);
    assert.equal(intraOpThreads(0, 1000), 1);
    assert.equal(intraOpThreads(2, 4), 2);
  });

  it('refuses an unknown field, naming the file and the field', async () => {
    const { name, dir } = await model({ 'config.yaml': 'max_batch_sizes: 4\n' });
    await refuses(loadModelConfig(dir, name), join(dir, 'config.yaml'), /max_batch_sizes/);
  });

  it('refuses an unknown nested field with its dotted path', async () => {
    const { name, dir } = await model({ 'config.yaml': 'dynamic_batching:\n  max_queue_delay: 5\n' });
    await refuses(loadModelConfig(dir, name), join(dir, 'config.yaml'), 'dynamic_batching.max_queue_delay');
  });

  const badValues: Array<[string, string, string]> = [
    ['a negative max_batch_size', 'max_batch_size: -1\n', 'max_batch_size'],
    ["device 'tpu'", 'instance: { device: tpu }\n', 'instance.device'],
    ["datatype 'FLOAT'", 'input:\n  - { name: a, datatype: FLOAT, dims: [4] }\n', 'input.0.datatype'],
    ['a negative queue delay', 'dynamic_batching: { max_queue_delay_ms: -1 }\n', 'dynamic_batching.max_queue_delay_ms'],
    ['two version policies', 'version_policy: { all: {}, latest: {} }\n', 'version_policy'],
    ['a non-boolean inference_thread', 'instance: { inference_thread: sometimes }\n', 'instance.inference_thread'],
  ];
  for (const [what, yaml, field] of badValues) {
    it(`refuses ${what}, naming ${field}`, async () => {
      const { name, dir } = await model({ 'config.yaml': yaml });
      await refuses(loadModelConfig(dir, name), join(dir, 'config.yaml'), `\n  - ${field}: `);
    });
  }

  it('refuses a name that differs from the directory', async () => {
    const { name, dir } = await model({ 'config.yaml': 'name: other\n' });
    await refuses(loadModelConfig(dir, name), /name: 'other' differs from the directory name/, name);
  });

  it('refuses a directory with two config files', async () => {
    const { name, dir } = await model({ 'config.yaml': '{}\n', 'config.json': '{}' });
    await refuses(loadModelConfig(dir, name), dir, /more than one config file/, 'config.yaml', 'config.json');
  });

  it('refuses a directory without a config file', async () => {
    const { name, dir } = await model({});
    await refuses(loadModelConfig(dir, name), dir, /no config file/);
  });

  it('refuses unparsable YAML, naming the file', async () => {
    const { name, dir } = await model({ 'config.yaml': 'max_batch_size: [4\n' });
    await refuses(loadModelConfig(dir, name), join(dir, 'config.yaml'), /cannot parse/);
  });
});

describe('ModelRepository.resolve version selection', () => {
  it('serves only the newest version by default', async () => {
    const { name } = await model({ 'config.yaml': '{}\n' }, [1, 2, 10]);
    assert.deepEqual(await versionsOf(name), ['10']);
  });

  it('serves the newest num_versions with latest', async () => {
    const { name } = await model({ 'config.yaml': 'version_policy: { latest: { num_versions: 2 } }\n' }, [1, 2, 3]);
    assert.deepEqual(await versionsOf(name), ['3', '2']);
  });

  it('serves every version with all, newest first', async () => {
    const { name } = await model({ 'config.yaml': 'version_policy: { all: {} }\n' }, [2, 1, 3]);
    assert.deepEqual(await versionsOf(name), ['3', '2', '1']);
  });

  it('serves the listed versions with specific', async () => {
    const { name } = await model({ 'config.yaml': 'version_policy: { specific: { versions: [1, 3] } }\n' }, [1, 2, 3]);
    const resolved = await repo.resolve(name);
    assert.deepEqual(
      resolved.versions.map((v) => v.version),
      ['3', '1'],
    );
    assert.equal(resolved.versions[0]!.path, join(root, name, '3', 'model.onnx'));
  });

  it('refuses a specific policy naming a missing version', async () => {
    const { name } = await model({ 'config.yaml': 'version_policy: { specific: { versions: [1, 4] } }\n' }, [1, 2]);
    await refuses(repo.resolve(name), /version_policy\.specific names missing versions 4/);
  });

  it('serves exactly the pinned MODEL_VERSION whatever the policy', async () => {
    const { name } = await model({ 'config.yaml': 'version_policy: { all: {} }\n' }, [1, 2, 3]);
    assert.deepEqual(await versionsOf(name, '2'), ['2']);
  });

  it('refuses a pin of a missing version', async () => {
    const { name } = await model({ 'config.yaml': '{}\n' }, [1, 2]);
    await refuses(repo.resolve(name, '7'), /version 7 not found \(have 2, 1\)/);
  });

  it('refuses a model without any version directory', async () => {
    const { name } = await model({ 'config.yaml': '{}\n' }, []);
    await refuses(repo.resolve(name), new RegExp(`model '${name}': no version directory`));
  });

  it('refuses a model that is not in the repository', async () => {
    await refuses(repo.resolve('nope'), /model 'nope' not found/);
  });
});

describe('LoadedModel.load', () => {
  const sumYaml = (io: string, extra = 'max_batch_size: 8\n'): string => extra + io;

  const declare = (from: string, to: string): string => SUM_IO.replace(from, to);
  const extraC = '  - { name: c, datatype: FP32, dims: [4] }\noutput:';
  const mismatches: Array<[string, string, RegExp]> = [
    ['dims', declare('dims: [4]', 'dims: [5]'), /input\[0\]\.dims: declared \[5\], the model says \[4\]/],
    ['datatype', declare('b, datatype: FP32', 'b, datatype: FP64'), /input\[1\]\.datatype: declared FP64/],
    ['an extra name', declare('output:', extraC), /input\[2\]\.name: the model has no input 'c'/],
    ['a renamed input', declare('name: a,', 'name: z,'), /does not declare the model's input 'a'/],
  ];
  for (const [what, io, pattern] of mismatches) {
    it(`refuses a config whose declared ${what} disagrees with the ONNX model`, async () => {
      const { name } = await model({ 'config.yaml': sumYaml(io) });
      const resolved = await repo.resolve(name);
      await refuses(LoadedModel.load(resolved), resolved.versions[0]!.path, pattern);
    });
  }

  it('refuses batching on a model whose first dimension is fixed', async () => {
    const { name } = await model({ 'config.json': '{ "max_batch_size": 4 }' }, [1], NOBATCH_ONNX);
    await refuses(
      LoadedModel.load(await repo.resolve(name)),
      /max_batch_size > 0 but input 'x' has a fixed first dimension 3/,
    );
  });

  it('refuses device cuda where the CUDA provider is not installed', async () => {
    const { name } = await model({ 'config.yaml': sumYaml(SUM_IO, 'max_batch_size: 8\ninstance: { device: cuda }\n') });
    await refuses(LoadedModel.load(await repo.resolve(name)), /instance\.device/, /CUDA provider/);
  });

  it('loads every selected version with batch shapes and warms up', async () => {
    const { name } = await model(
      { 'config.yaml': sumYaml(SUM_IO, 'max_batch_size: 8\nversion_policy: { all: {} }\n') },
      [1, 2],
    );
    const loaded = await LoadedModel.load(await repo.resolve(name));
    try {
      assert.deepEqual(loaded.metadata.versions, ['2', '1']);
      assert.equal(loaded.metadata.maxBatchSize, 8);
      assert.deepEqual(loaded.metadata.inputs, [
        { name: 'a', datatype: 'FP32', shape: [-1, 4] },
        { name: 'b', datatype: 'FP32', shape: [-1, 4] },
      ]);
      const outputs = loaded.metadata.outputs.map((o) => `${o.name} ${o.datatype} [${o.shape.join(',')}]`);
      assert.deepEqual(outputs, ['sum FP32 [-1,4]', 'diff FP32 [-1,4]']);
      assert.equal(loaded.version('1')?.version, '1');
      assert.equal(loaded.version('3'), undefined);
      await loaded.warmUp();
    } finally {
      await loaded.release();
    }
  });

  it('refuses device cuda on an inference thread too, with the same error', async () => {
    const yaml = sumYaml(SUM_IO, 'max_batch_size: 8\ninstance: { device: cuda, inference_thread: true }\n');
    const { name } = await model({ 'config.yaml': yaml });
    await refuses(LoadedModel.load(await repo.resolve(name)), /instance\.device/, /CUDA provider/);
  });

  it('runs inferences on a thread of its own with inference_thread, and stops it on release', async () => {
    const { name } = await model({
      'config.yaml': sumYaml(SUM_IO, 'max_batch_size: 8\ninstance: { inference_thread: true }\n'),
    });
    const loaded = await LoadedModel.load(await repo.resolve(name));
    const { session } = loaded.versions[0]!;
    assert.ok(session instanceof ThreadedSession);
    assert.deepEqual(
      loaded.metadata.inputs.map((i) => i.name),
      ['a', 'b'],
    );
    await loaded.warmUp();
    const rows = (values: number[]): ort.Tensor => new ort.Tensor('float32', Float32Array.from(values), [2, 4]);
    // Two runs in flight at once come back to their own callers.
    const [first, second] = await Promise.all([
      session.run({ a: rows([1, 2, 3, 4, 5, 6, 7, 8]), b: rows([1, 1, 1, 1, 2, 2, 2, 2]) }),
      session.run({ a: rows([0, 0, 0, 0, 0, 0, 0, 0]), b: rows([1, 2, 3, 4, 5, 6, 7, 8]) }),
    ]);
    assert.deepEqual(Array.from(first.sum!.data as Float32Array), [2, 3, 4, 5, 7, 8, 9, 10]);
    assert.deepEqual(Array.from(first.diff!.data as Float32Array), [0, 1, 2, 3, 3, 4, 5, 6]);
    assert.deepEqual(first.sum!.dims, [2, 4]);
    assert.deepEqual(Array.from(second.sum!.data as Float32Array), [1, 2, 3, 4, 5, 6, 7, 8]);
    // Feeds are copied unless handed over; handed over, their buffers move to the thread.
    const kept = { a: rows([1, 1, 1, 1, 1, 1, 1, 1]), b: rows([2, 2, 2, 2, 2, 2, 2, 2]) };
    assert.equal((await session.run(kept)).sum!.dims[0], 2);
    assert.equal((kept.a.data as Float32Array).length, 8, 'copied: the caller still has its data');
    const given = { a: rows([1, 1, 1, 1, 1, 1, 1, 1]), b: rows([2, 2, 2, 2, 2, 2, 2, 2]) };
    assert.deepEqual(Array.from((await session.run(given, true)).sum!.data as Float32Array), Array(8).fill(3));
    assert.equal((given.a.data as Float32Array).length, 0, 'handed over: moved, not copied');
    const view = new Float32Array(new ArrayBuffer(32), 16, 4).fill(5);
    const part = { a: new ort.Tensor('float32', view, [1, 4]), b: new ort.Tensor('float32', view, [1, 4]) };
    assert.deepEqual(Array.from((await session.run(part, true)).sum!.data as Float32Array), [10, 10, 10, 10]);
    assert.equal(view.length, 4, 'a view into a larger buffer is copied even when handed over');
    // onnxruntime's own error comes back as the run's rejection; the thread serves on.
    await assert.rejects(
      session.run({ a: new ort.Tensor('float32', new Float32Array(3), [1, 3]), b: rows([1, 2, 3, 4, 5, 6, 7, 8]) }),
      /dimension|shape|Got invalid/i,
    );
    assert.equal(
      (await session.run({ a: rows([1, 1, 1, 1, 1, 1, 1, 1]), b: rows([1, 1, 1, 1, 1, 1, 1, 1]) })).sum!.dims[0],
      2,
    );
    assert.equal(loaded.failure, undefined);
    await loaded.release();
    assert.equal(loaded.failure, undefined, 'a released session has not failed');
    await assert.rejects(
      session.run({ a: rows([1, 1, 1, 1, 1, 1, 1, 1]), b: rows([1, 1, 1, 1, 1, 1, 1, 1]) }),
      /inference thread exited/,
    );
  });

  it('runs instance.count sessions, each on its own thread, and lets their batches run at once', async () => {
    const { name } = await model({ 'config.yaml': sumYaml(SUM_IO, 'max_batch_size: 8\ninstance: { count: 2 }\n') });
    const resolved = await repo.resolve(name);
    assert.equal(resolved.config.instance.count, 2);
    assert.equal(defaultConcurrency(resolved.config), 24, 'a batch for each instance and one filling');
    const loaded = await LoadedModel.load(resolved);
    try {
      const { session } = loaded.versions[0]!;
      assert.ok(session instanceof SessionPool);
      assert.equal(session.size, 2);
      await loaded.warmUp();
      const four = (v: number) => new ort.Tensor('float32', Float32Array.from([v, v, v, v]), [1, 4]);
      const sums = await Promise.all([1, 2, 3].map((v) => session.run({ a: four(v), b: four(v) })));
      assert.deepEqual(
        sums.map((r) => (r.sum!.data as Float32Array)[0]),
        [2, 4, 6],
      );
    } finally {
      await loaded.release();
    }
    const { name: one } = await model({
      'config.yaml': sumYaml(SUM_IO, 'max_batch_size: 8\ninstance: { count: 0 }\n'),
    });
    await refuses(repo.resolve(one), /instance\.count/);
  });

  it('reports a dead inference thread as the model failure, and fails runs instead of hanging', async () => {
    const { name } = await model({
      'config.yaml': sumYaml(SUM_IO, 'max_batch_size: 8\ninstance: { inference_thread: true }\n'),
    });
    const loaded = await LoadedModel.load(await repo.resolve(name));
    const { session } = loaded.versions[0]!;
    // Data onnxruntime cannot even wrap: the thread throws outside any run and dies.
    const broken = { type: 'float32', dims: [1], data: 5 } as unknown as ort.Tensor;
    await assert.rejects(session.run({ a: broken, b: broken }), /inference thread (failed|exited)/);
    assert.match(loaded.failure?.message ?? '', /inference thread (failed|exited)/);
    const four = new ort.Tensor('float32', new Float32Array(4), [1, 4]);
    await assert.rejects(session.run({ a: four, b: four }), /inference thread/);
    await loaded.release();
  });

  it('loads the fixed-shape model without batching', async () => {
    const loaded = await LoadedModel.load(await new ModelRepository(FIXTURES).resolve('nobatch'));
    try {
      assert.equal(loaded.metadata.maxBatchSize, 0);
      assert.deepEqual(loaded.metadata.inputs, [{ name: 'x', datatype: 'FP32', shape: [3] }]);
      await loaded.warmUp();
    } finally {
      await loaded.release();
    }
  });
});
