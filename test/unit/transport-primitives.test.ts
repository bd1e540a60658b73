import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import type { ScoringReply } from '../../libs/contracts/src/index.js';
import { ReplyWaiter } from '../../libs/runtime/src/transport/reply-waiter.js';
import { WriteCoalescer } from '../../libs/runtime/src/transport/write-coalescer.js';

const FAR = 60_000;

const success = (id: string): ScoringReply => ({
  id,
  ok: true,
  model: 'sum',
  version: '1',
  outputs: [],
  timings: { queue: 0, preprocess: 0, inference: 0 },
});

describe('ReplyWaiter', () => {
  it('resolves the waiting caller with a reply delivered before the deadline', async () => {
    const waiter = new ReplyWaiter();
    const waiting = waiter.wait('r1', Date.now() + FAR);
    assert.equal(waiter.size, 1);
    assert.equal(waiter.deliver(success('r1')), true);
    assert.deepEqual(await waiting, success('r1'));
    assert.equal(waiter.size, 0);
    assert.equal(waiter.timedOut, 0);
    assert.equal(waiter.unmatched, 0);
  });

  it('resolves a 504 failure at the deadline and counts it', async () => {
    const waiter = new ReplyWaiter();
    const reply = await waiter.wait('r2', Date.now() + 10);
    assert.equal(reply.ok, false);
    if (!reply.ok) {
      assert.equal(reply.id, 'r2');
      assert.equal(reply.status, 504);
      assert.match(reply.error, /deadline/);
    }
    assert.equal(waiter.timedOut, 1);
    assert.equal(waiter.size, 0);
  });

  it('refuses a reply that arrives after the deadline and counts it unmatched', async () => {
    const waiter = new ReplyWaiter();
    await waiter.wait('r3', Date.now() + 5);
    assert.equal(waiter.deliver(success('r3')), false);
    assert.equal(waiter.unmatched, 1);
    assert.equal(waiter.deliver(success('someone-else')), false);
    assert.equal(waiter.unmatched, 2);
  });

  it('delivers each reply only once', async () => {
    const waiter = new ReplyWaiter();
    const waiting = waiter.wait('r4', Date.now() + FAR);
    assert.equal(waiter.deliver(success('r4')), true);
    assert.equal(waiter.deliver(success('r4')), false);
    assert.equal((await waiting).id, 'r4');
    assert.equal(waiter.unmatched, 1);
  });

  it('lists the waits older than a threshold with their tags', async () => {
    const waiter = new ReplyWaiter();
    const old = waiter.wait('old', Date.now() + FAR, 'queue-a');
    await sleep(80);
    const young = waiter.wait('young', Date.now() + FAR, 'queue-b');
    assert.deepEqual(waiter.waitingLongerThan(40), [{ id: 'old', tag: 'queue-a' }]);
    assert.deepEqual(
      waiter
        .waitingLongerThan(0)
        .map((w) => w.id)
        .sort(),
      ['old', 'young'],
    );
    waiter.deliver(success('old'));
    waiter.deliver(success('young'));
    await Promise.all([old, young]);
    assert.deepEqual(waiter.waitingLongerThan(0), []);
  });

  it('drained() resolves only once nobody waits any more', async () => {
    const waiter = new ReplyWaiter();
    const a = waiter.wait('a', Date.now() + FAR);
    const b = waiter.wait('b', Date.now() + FAR);
    let done = false;
    const drained = waiter.drained(5).then(() => (done = true));
    waiter.deliver(success('a'));
    await sleep(50);
    assert.equal(done, false, 'b still waits');
    waiter.deliver(success('b'));
    await drained;
    assert.equal(done, true);
    await Promise.all([a, b]);
  });

  it('drained() resolves at once when nobody waits', async () => {
    await new ReplyWaiter().drained();
  });
});

describe('WriteCoalescer', () => {
  function coalescer(failOn?: string) {
    const flushes: string[][] = [];
    const c = new WriteCoalescer<string, string>(async (items) => {
      flushes.push([...items]);
      await sleep(1);
      if (failOn !== undefined && items.includes(failOn)) throw new Error(`flush of ${items.join(',')} failed`);
      return items.map((s) => s.toUpperCase());
    });
    return { c, flushes };
  }

  it('flushes the pushes of one tick together, once, and resolves each with its result', async () => {
    const { c, flushes } = coalescer();
    const results = await Promise.all([c.push('a'), c.push('b'), c.push('c')]);
    assert.deepEqual(flushes, [['a', 'b', 'c']]);
    assert.deepEqual(results, ['A', 'B', 'C']);
  });

  it('flushes pushes of different ticks separately', async () => {
    const { c, flushes } = coalescer();
    const first = c.push('a');
    await nextTurn();
    const second = c.push('b');
    assert.deepEqual(await Promise.all([first, second]), ['A', 'B']);
    assert.deepEqual(flushes, [['a'], ['b']]);
  });

  it('holds pushes made while a flush is in flight and sends them together after it', async () => {
    const flushes: string[][] = [];
    let release!: () => void;
    const inFlight = new Promise<void>((r) => (release = r));
    const c = new WriteCoalescer<string, string>(async (items) => {
      flushes.push([...items]);
      if (flushes.length === 1) await inFlight;
      return items.map((s) => s.toUpperCase());
    });
    const first = c.push('a');
    await nextTurn();
    const later = [c.push('b')];
    await nextTurn();
    later.push(c.push('c'));
    await nextTurn();
    assert.deepEqual(flushes, [['a']], 'nothing more is flushed while the first flush is in flight');
    release();
    assert.deepEqual(await Promise.all([first, ...later]), ['A', 'B', 'C']);
    assert.deepEqual(flushes, [['a'], ['b', 'c']]);
  });

  it('rejects every push of a failed flush and only those', async () => {
    const { c, flushes } = coalescer('x');
    const failed = [c.push('a'), c.push('x')];
    await nextTurn();
    const later = c.push('b');
    const settled = await Promise.allSettled([...failed, later]);
    assert.deepEqual(flushes, [['a', 'x'], ['b']]);
    assert.deepEqual(
      settled.map((s) => s.status),
      ['rejected', 'rejected', 'fulfilled'],
    );
    for (const s of settled.slice(0, 2))
      if (s.status === 'rejected') assert.match(String(s.reason), /flush of a,x failed/);
    assert.deepEqual(settled[2], { status: 'fulfilled', value: 'B' });
  });
});
