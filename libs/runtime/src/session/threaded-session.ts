import { Worker } from 'node:worker_threads';
import type ort from 'onnxruntime-node';
import {
  fromWire,
  toWire,
  type ModelSession,
  type SessionSpec,
  type TensorMap,
  type WireOrtTensor,
} from './model-session.js';
import { wholeBuffer } from '../tensor/whole-buffer.js';
import type { FromThread, ToThread } from './session-thread.js';

interface Pending {
  resolve: (outputs: TensorMap) => void;
  reject: (err: Error) => void;
}

/**
 * An onnxruntime session on its own thread. onnxruntime-node runs an inference synchronously
 * on the thread that calls it, so a session on the worker's main thread blocks its event loop
 * for the whole batch: no job is fetched, no image decoded and no reply sent meanwhile. Here
 * the main thread keeps doing that work while the batch runs, at the cost of copying the feeds
 * to the thread (the outputs are transferred back). Runs are served in order, one at a time.
 */
export class ThreadedSession implements ModelSession {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private dead: Error | undefined;
  private released = false;

  private constructor(
    private readonly thread: Worker,
    readonly inputMetadata: readonly ort.InferenceSession.ValueMetadata[],
    readonly outputMetadata: readonly ort.InferenceSession.ValueMetadata[],
  ) {
    thread.on('message', (message: FromThread) => {
      if (!('id' in message)) return;
      const waiter = this.pending.get(message.id);
      this.pending.delete(message.id);
      if (!waiter) return;
      if ('error' in message) waiter.reject(new Error(message.error));
      else waiter.resolve(fromWireMap(message.outputs));
    });
    const die = (err: Error): void => {
      this.dead ??= err;
      for (const waiter of this.pending.values()) waiter.reject(this.dead);
      this.pending.clear();
    };
    thread.on('error', (err) => die(new Error(`inference thread failed: ${err.message}`)));
    thread.on('exit', (code) => die(new Error(`inference thread exited (code ${code})`)));
  }

  /** Starts the thread and creates the session there; rejects with onnxruntime's error. */
  static async create(spec: SessionSpec): Promise<ThreadedSession> {
    const thread = new Worker(new URL('./session-thread.js', import.meta.url), { workerData: spec });
    const ready = await new Promise<FromThread>((resolve, reject) => {
      thread.once('message', resolve);
      thread.once('error', reject);
      thread.once('exit', (code) =>
        reject(new Error(`inference thread exited (code ${code}) before its session was ready`)),
      );
    });
    if (!('ready' in ready)) {
      await thread.terminate();
      throw new Error('failed' in ready ? ready.failed : 'inference thread sent no session');
    }
    return new ThreadedSession(
      thread,
      ready.inputMetadata as ort.InferenceSession.ValueMetadata[],
      ready.outputMetadata as ort.InferenceSession.ValueMetadata[],
    );
  }

  /** Why the thread stopped serving, unless it was released. */
  get failure(): Error | undefined {
    return this.released ? undefined : this.dead;
  }

  run(feeds: TensorMap, handOver = false): Promise<TensorMap> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    const wire: Record<string, WireOrtTensor> = {};
    const transfer: ArrayBuffer[] = [];
    for (const [name, tensor] of Object.entries(feeds)) {
      wire[name] = toWire(tensor);
      const buffer = handOver ? wholeBuffer(tensor.data) : undefined;
      if (buffer && !transfer.includes(buffer)) transfer.push(buffer);
    }
    return new Promise<TensorMap>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      // Feeds are copied unless handed over: the caller may still hold them (a re-run alone).
      this.thread.postMessage({ id, feeds: wire } satisfies ToThread, transfer);
    });
  }

  async release(): Promise<void> {
    this.released = true;
    if (this.dead) return;
    const exited = new Promise<void>((resolve) => this.thread.once('exit', () => resolve()));
    this.thread.postMessage({ release: true } satisfies ToThread);
    await exited;
  }
}

function fromWireMap(wire: Record<string, WireOrtTensor>): TensorMap {
  const map: TensorMap = {};
  for (const [name, tensor] of Object.entries(wire)) map[name] = fromWire(tensor);
  return map;
}
