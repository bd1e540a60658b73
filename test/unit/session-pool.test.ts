import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ModelSession, TensorMap } from '../../libs/runtime/src/session/model-session.js';
import { SessionPool } from '../../libs/runtime/src/session/session-pool.js';

/** A session whose runs finish when the test says so; records which runs it got. */
class FakeSession implements ModelSession {
  readonly inputMetadata = [];
  readonly outputMetadata = [];
  readonly got: string[] = [];
  readonly finish: (() => void)[] = [];
  released = false;
  failure: Error | undefined;

  constructor(readonly name: string) {}

  run(feeds: TensorMap): Promise<TensorMap> {
    this.got.push(Object.keys(feeds)[0]!);
    return new Promise((resolve) => this.finish.push(() => resolve({ [this.name]: feeds[Object.keys(feeds)[0]!]! })));
  }

  async release(): Promise<void> {
    this.released = true;
  }
}

const feeds = (tag: string) => ({ [tag]: {} }) as unknown as TensorMap;
const tick = () => new Promise((r) => setImmediate(r));

describe('SessionPool', () => {
  it('gives concurrent runs to different sessions and queues the rest until one is free', async () => {
    const a = new FakeSession('a');
    const b = new FakeSession('b');
    const pool = new SessionPool([a, b]);
    const runs = ['r1', 'r2', 'r3'].map((tag) => pool.run(feeds(tag)));
    await tick();
    assert.equal(a.got.length + b.got.length, 2, 'two runs at once, one per session');
    assert.equal(a.got.length, 1);
    // The third waits; it goes to whichever session finishes first.
    const first = a.got[0] === 'r1' ? a : b;
    first.finish.shift()!();
    await tick();
    assert.deepEqual(first.got.slice(-1), ['r3']);
    a.finish.splice(0).forEach((f) => f());
    b.finish.splice(0).forEach((f) => f());
    const outputs = await Promise.all(runs);
    assert.deepEqual(outputs.map((o) => Object.keys(o)[0]).sort(), [first.name, 'a', 'b'].sort());
  });

  it('keeps using the same session at low load, reports any failure and releases every session', async () => {
    const a = new FakeSession('a');
    const b = new FakeSession('b');
    const pool = new SessionPool([a, b]);
    for (const tag of ['x', 'y', 'z']) {
      const run = pool.run(feeds(tag));
      await tick();
      [...a.finish.splice(0), ...b.finish.splice(0)].forEach((f) => f());
      await run;
    }
    assert.ok(a.got.length === 3 || b.got.length === 3, 'one warm session did all three');
    const failure = (): Error | undefined => pool.failure;
    assert.equal(failure(), undefined);
    b.failure = new Error('inference thread exited (code 1)');
    assert.equal(failure()?.message, 'inference thread exited (code 1)');
    await pool.release();
    assert.ok(a.released && b.released);
    assert.throws(() => new SessionPool([]), /at least one session/);
  });
});
