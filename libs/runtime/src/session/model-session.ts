import ort from 'onnxruntime-node';

/** Model feeds or fetches by tensor name. */
export type TensorMap = Record<string, ort.Tensor>;

/** What a served version runs inferences on: an onnxruntime session here or on its own thread. */
export interface ModelSession {
  readonly inputMetadata: readonly ort.InferenceSession.ValueMetadata[];
  readonly outputMetadata: readonly ort.InferenceSession.ValueMetadata[];
  /**
   * `handOver`: the caller never touches the feeds again, so a session on another thread may
   * move their buffers there instead of copying them (the caller's views are then empty).
   */
  run(feeds: TensorMap, handOver?: boolean): Promise<TensorMap>;
  release(): Promise<void>;
  /** Set once the session can run nothing more (its thread died); the worker is then not live. */
  readonly failure?: Error;
}

/** How a session is created, on whichever thread runs it (structured-cloneable). */
export interface SessionSpec {
  path: string;
  options: ort.InferenceSession.SessionOptions;
}

/** A tensor as it crosses threads: a plain object, its data cloned or transferred. */
export interface WireOrtTensor {
  type: ort.Tensor.Type;
  dims: readonly number[];
  data: ort.Tensor['data'];
}

export function toWire(tensor: ort.Tensor): WireOrtTensor {
  return { type: tensor.type, dims: tensor.dims, data: tensor.data };
}

export function fromWire(wire: WireOrtTensor): ort.Tensor {
  return new ort.Tensor(wire.type, wire.data as never, wire.dims);
}

/** Creates an onnxruntime session on the calling thread (inference blocks its event loop). */
export async function createLocalSession(spec: SessionSpec): Promise<ModelSession> {
  const session = await ort.InferenceSession.create(spec.path, spec.options);
  return {
    inputMetadata: session.inputMetadata,
    outputMetadata: session.outputMetadata,
    run: async (feeds) => (await session.run(feeds)) as TensorMap,
    release: () => session.release(),
  };
}
