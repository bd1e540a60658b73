/**
 * Entry of an inference thread (see ThreadedSession): creates one onnxruntime session from
 * `workerData`, answers `ready` with its metadata, then runs the feeds it is sent, one
 * message at a time, and transfers the outputs back.
 */
import { parentPort, workerData } from 'node:worker_threads';
import {
  createLocalSession,
  fromWire,
  toWire,
  type SessionSpec,
  type TensorMap,
  type WireOrtTensor,
} from './model-session.js';

/** A message to the thread: run feeds, or release the session and exit. */
export type ToThread = { id: number; feeds: Record<string, WireOrtTensor> } | { release: true };

/** A message from the thread. */
export type FromThread =
  | { ready: true; inputMetadata: unknown; outputMetadata: unknown }
  | { failed: string }
  | { id: number; outputs: Record<string, WireOrtTensor> }
  | { id: number; error: string };

const port = parentPort!;
const post = (message: FromThread, transfer: ArrayBuffer[] = []): void => port.postMessage(message, transfer);

try {
  const session = await createLocalSession(workerData as SessionSpec);
  port.on('message', (message: ToThread) => {
    if ('release' in message) {
      void session.release().finally(() => port.close());
      return;
    }
    const feeds: TensorMap = {};
    for (const [name, wire] of Object.entries(message.feeds)) feeds[name] = fromWire(wire);
    session.run(feeds).then(
      (outputs) => {
        const wire: Record<string, WireOrtTensor> = {};
        const transfer: ArrayBuffer[] = [];
        for (const [name, tensor] of Object.entries(outputs)) {
          wire[name] = toWire(tensor);
          const data = tensor.data as { buffer?: unknown };
          // Outputs own their buffers: hand them over instead of copying.
          if (data.buffer instanceof ArrayBuffer && !transfer.includes(data.buffer)) transfer.push(data.buffer);
        }
        post({ id: message.id, outputs: wire }, transfer);
      },
      (err: Error) => post({ id: message.id, error: err.message }),
    );
  });
  post({ ready: true, inputMetadata: session.inputMetadata, outputMetadata: session.outputMetadata });
} catch (err) {
  post({ failed: (err as Error).message });
}
