import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { InferenceSession } from 'onnxruntime-node';
import { ConfigError } from '../repository/config-error.js';
import type { InstanceConfig } from '../repository/model-config.js';

/**
 * Chooses onnxruntime's execution providers for a device. CUDA needs the provider library
 * that onnxruntime-node's install step downloads (the GPU image runs it with
 * ONNXRUNTIME_NODE_INSTALL=cuda12); without it we refuse to start rather than quietly
 * running a GPU deployment on the CPU.
 */
export function executionProvidersFor(instance: InstanceConfig): InferenceSession.ExecutionProviderConfig[] {
  if (instance.device === 'cpu') return ['cpu'];
  const library = findCudaProviderLibrary();
  if (!library) {
    throw new ConfigError(
      "instance.device is 'cuda' but onnxruntime-node's CUDA provider (libonnxruntime_providers_cuda.so) " +
        'is not installed: install with ONNXRUNTIME_NODE_INSTALL=cuda12 (the GPU image does) ' +
        'or set DEVICE=cpu to run this model on the CPU',
    );
  }
  return [{ name: 'cuda', deviceId: instance.gpu_device_id }, 'cpu'];
}

function findCudaProviderLibrary(): string | undefined {
  const require = createRequire(import.meta.url);
  const root = dirname(dirname(require.resolve('onnxruntime-node')));
  const binRoot = join(root, 'bin');
  if (!existsSync(binRoot)) return undefined;
  for (const napi of readdirSync(binRoot)) {
    const candidate = join(binRoot, napi, process.platform, process.arch, 'libonnxruntime_providers_cuda.so');
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}
