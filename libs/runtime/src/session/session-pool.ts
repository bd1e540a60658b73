import type ort from 'onnxruntime-node';
import type { ModelSession, TensorMap } from './model-session.js';

/**
 * The sessions of one version (`instance.count`), used as one: a run goes to an idle session,
 * or waits for the first to come free. The batcher runs at most as many batches at once as
 * there are sessions, so in service a run never waits here.
 */
export class SessionPool implements ModelSession {
  private readonly idle: ModelSession[];
  private readonly waiting: ((session: ModelSession) => void)[] = [];

  constructor(private readonly sessions: readonly ModelSession[]) {
    if (sessions.length === 0) throw new Error('a session pool needs at least one session');
    this.idle = [...sessions];
  }

  get size(): number {
    return this.sessions.length;
  }

  get inputMetadata(): readonly ort.InferenceSession.ValueMetadata[] {
    return this.sessions[0]!.inputMetadata;
  }

  get outputMetadata(): readonly ort.InferenceSession.ValueMetadata[] {
    return this.sessions[0]!.outputMetadata;
  }

  /** The first failure of any session: one dead thread makes the worker not live. */
  get failure(): Error | undefined {
    return this.sessions.find((s) => s.failure)?.failure;
  }

  async run(feeds: TensorMap, handOver?: boolean): Promise<TensorMap> {
    // Last in, first out: at low load one session does the work, its caches warm.
    const session = this.idle.pop() ?? (await new Promise<ModelSession>((r) => this.waiting.push(r)));
    try {
      return await session.run(feeds, handOver);
    } finally {
      const next = this.waiting.shift();
      if (next) next(session);
      else this.idle.push(session);
    }
  }

  async release(): Promise<void> {
    await Promise.all(this.sessions.map((s) => s.release()));
  }
}
