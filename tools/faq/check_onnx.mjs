// Run the exported FAQ model with onnxruntime-node (the runtime the server uses)
// so tools/train_faq.py can compare its outputs with scikit-learn's.
//
// usage: node tools/faq/check_onnx.mjs <model.onnx> <inputs.json> <out.json> [batch sizes, e.g. 1,8]
//   inputs.json: JSON array of strings
//   out.json:    {"<batch size>": [[p0, p1, ...], ...], ...}: one row per input, in input order
import { readFile, writeFile } from 'node:fs/promises';
import ort from 'onnxruntime-node';

const [modelPath, inputsPath, outPath, batchArg = '1'] = process.argv.slice(2);
if (!modelPath || !inputsPath || !outPath) {
  console.error('usage: node tools/faq/check_onnx.mjs <model.onnx> <inputs.json> <out.json> [1,8]');
  process.exit(2);
}

const texts = JSON.parse(await readFile(inputsPath, 'utf8'));
const batchSizes = batchArg.split(',').map(Number);
// Single intra-op thread, as in models/faq/config.yaml.
const session = await ort.InferenceSession.create(modelPath, { intraOpNumThreads: 1 });
const [inputName] = session.inputNames;
const [outputName] = session.outputNames;

const result = {};
for (const bs of batchSizes) {
  const rows = [];
  for (let start = 0; start < texts.length; start += bs) {
    const batch = texts.slice(start, start + bs);
    const feeds = { [inputName]: new ort.Tensor('string', batch, [batch.length]) };
    const out = (await session.run(feeds))[outputName];
    const [n, k] = out.dims;
    if (n !== batch.length) throw new Error(`batch of ${batch.length} gave ${n} output rows`);
    for (let i = 0; i < n; i++) rows.push(Array.from(out.data.subarray(i * k, (i + 1) * k)));
  }
  result[bs] = rows;
}
await writeFile(outPath, JSON.stringify(result));
console.log(
  `onnxruntime-node ${ort.env.versions?.common ?? ''}: ${texts.length} texts, batch sizes ${batchSizes.join(',')}`,
);
