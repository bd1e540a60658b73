// Runs an ONNX model in onnxruntime-node, the runtime Switchyard serves with,
// so the Python tools can check their exports without onnxruntime for Python.
//
// Two modes (run from the repo root so `onnxruntime-node` resolves):
//
//   node tools/fashion/check_onnx.mjs run MODEL IN.bin N,C,H,W OUT_PREFIX [BATCHES]
//     Reads N float32 samples (raw little-endian) from IN.bin, runs them through
//     the model in chunks of each batch size in BATCHES (default "all,1,7"), and
//     writes the first output of each run to OUT_PREFIX.<batch>.bin (float32).
//     Chunked runs catch exports whose batch axis is not really dynamic.
//
//   node tools/fashion/check_onnx.mjs bench MODEL C,H,W [BATCHES] [ITERS]
//     Times random inputs at each batch size (default "1,4") and prints JSON
//     with milliseconds per batch and per image. Uses 1 intra-op thread by
//     default (SWITCHYARD_THREADS overrides), like the served configs.
import { readFileSync, writeFileSync } from 'node:fs';
import ort from 'onnxruntime-node';

function usage() {
  console.error('usage: check_onnx.mjs run MODEL IN.bin N,C,H,W OUT_PREFIX [BATCHES]');
  console.error('       check_onnx.mjs bench MODEL C,H,W [BATCHES] [ITERS]');
  process.exit(2);
}

const parseDims = (s) => s.split(',').map((d) => Number.parseInt(d, 10));

async function openSession(modelPath) {
  const threads = Number.parseInt(process.env.SWITCHYARD_THREADS ?? '1', 10);
  return ort.InferenceSession.create(modelPath, {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
  });
}

async function runOnce(session, data, dims) {
  const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', data, dims) };
  const out = await session.run(feeds);
  return out[session.outputNames[0]];
}

async function runMode([modelPath, inPath, dimsArg, outPrefix, batchesArg = 'all,1,7']) {
  if (!outPrefix) usage();
  const dims = parseDims(dimsArg);
  const [n, ...sample] = dims;
  const per = sample.reduce((a, b) => a * b, 1);
  const buf = readFileSync(inPath);
  const input = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
  if (input.length !== n * per) throw new Error(`expected ${n * per} floats, got ${input.length}`);

  const session = await openSession(modelPath);
  const summary = { inputs: session.inputNames, outputs: session.outputNames, runs: {} };
  for (const b of batchesArg.split(',')) {
    const size = b === 'all' ? n : Number.parseInt(b, 10);
    const chunks = [];
    let outPer = 0;
    for (let start = 0; start < n; start += size) {
      const count = Math.min(size, n - start);
      const slice = input.subarray(start * per, (start + count) * per);
      const t = await runOnce(session, slice, [count, ...sample]);
      outPer = t.dims.slice(1).reduce((a, c) => a * c, 1);
      chunks.push(Float32Array.from(t.data));
    }
    const all = new Float32Array(n * outPer);
    let offset = 0;
    for (const c of chunks) {
      all.set(c, offset);
      offset += c.length;
    }
    writeFileSync(`${outPrefix}.${b}.bin`, Buffer.from(all.buffer));
    summary.runs[b] = { batch: size, calls: chunks.length, outputPerSample: outPer };
  }
  console.log(JSON.stringify(summary));
}

async function benchMode([modelPath, dimsArg, batchesArg = '1,4', itersArg = '10']) {
  if (!dimsArg) usage();
  const sample = parseDims(dimsArg);
  const per = sample.reduce((a, b) => a * b, 1);
  const iters = Number.parseInt(itersArg, 10);
  const t0 = performance.now();
  const session = await openSession(modelPath);
  const result = { model: modelPath, loadMs: +(performance.now() - t0).toFixed(1), batches: {} };
  for (const b of batchesArg.split(',').map(Number)) {
    const data = new Float32Array(b * per);
    for (let i = 0; i < data.length; i++) data[i] = Math.random() * 2 - 1;
    await runOnce(session, data, [b, ...sample]); // warm-up: first run allocates
    const times = [];
    for (let i = 0; i < iters; i++) {
      const s = performance.now();
      await runOnce(session, data, [b, ...sample]);
      times.push(performance.now() - s);
    }
    times.sort((x, y) => x - y);
    const median = times[Math.floor(times.length / 2)];
    result.batches[b] = { msPerBatch: +median.toFixed(2), msPerImage: +(median / b).toFixed(2) };
  }
  console.log(JSON.stringify(result));
}

const [mode, ...rest] = process.argv.slice(2);
if (mode === 'run') await runMode(rest);
else if (mode === 'bench') await benchMode(rest);
else usage();
