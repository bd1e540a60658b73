import assert from 'node:assert/strict';
import { after, before, describe, it, type TestContext } from 'node:test';
import { Redis } from 'ioredis';
import type { ScoringEnvelope, ScoringJob } from '../../libs/contracts/src/index.js';
import { addToLane } from '../../libs/runtime/src/transport/envelope-adds.js';
import { LaneConsumer, type LaneConsumerOptions } from '../../libs/runtime/src/transport/lane-consumer.js';
import { decodeLaneEntry, encodeLaneEntry } from '../../libs/runtime/src/transport/lane-entry.js';
import { RedisKeys } from '../../libs/runtime/src/transport/redis-keys.js';
import { ReplyPublisher, type AlsoSend } from '../../libs/runtime/src/transport/reply-publisher.js';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

function job(id: string): ScoringJob {
  return { id, model: 'm', kind: 'tensors', replyTo: 'chan', deadline: Date.now() + 10_000 } as ScoringJob;
}

async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`not within ${timeoutMs} ms: ${what}`);
}

describe('lane entries', () => {
  it('round-trip an envelope with its taken-back count', () => {
    const raw = encodeLaneEntry({ items: [job('a'), job('b')] });
    const entry = decodeLaneEntry(raw);
    assert.equal(entry.takenBack, 0);
    assert.deepEqual(
      entry.envelope.items.map((i) => i.id),
      ['a', 'b'],
    );
    assert.equal(decodeLaneEntry(`1|${raw.slice(2)}`).takenBack, 1);
    assert.throws(() => decodeLaneEntry('{"items":[]}'), /malformed lane entry/);
  });
});

describe('LaneConsumer (real Redis)', () => {
  const prefix = `unit-lane-${process.pid}-${Date.now()}`;
  const keys = new RedisKeys(prefix);
  const queue = 'q';
  const connections: Redis[] = [];
  const consumers: LaneConsumer[] = [];
  let redis: Redis;

  before(() => {
    redis = new Redis(REDIS_URL);
  });

  after(async () => {
    const left = await redis.keys(`${prefix}:*`);
    if (left.length > 0) await redis.del(...left);
    for (const c of connections) c.disconnect();
    redis.disconnect();
  });

  /** Starts a consumer that records what it serves and abandons. */
  async function consumer(
    t: TestContext,
    workerId: string,
    options: Partial<LaneConsumerOptions> = {},
    /**
     * Runs after an envelope is recorded as served; the envelope is served once it resolves.
     * Given `release`, it sends it (else the consumer files the envelope off by itself).
     */
    serving: (envelope: ScoringEnvelope, release: AlsoSend) => Promise<void> = async () => undefined,
  ): Promise<{
    served: [ScoringEnvelope, number][];
    abandoned: ScoringEnvelope[];
    errors: Error[];
    blocking: Redis;
    commands: Redis;
  }> {
    const blocking = new Redis(REDIS_URL, { maxRetriesPerRequest: null, connectionName: `${workerId}-lane` });
    const commands = new Redis(REDIS_URL, { maxRetriesPerRequest: null, connectionName: `${workerId}-commands` });
    connections.push(blocking, commands);
    const seen = {
      served: [] as [ScoringEnvelope, number][],
      abandoned: [] as ScoringEnvelope[],
      errors: [] as Error[],
      blocking,
      commands,
    };
    const c = new LaneConsumer(
      blocking,
      commands,
      keys,
      { queue, workerId, concurrency: 4, lockDurationMs: 1000, stalledIntervalMs: 100, ...options },
      async (envelope, attempt, release) => {
        seen.served.push([envelope, attempt]);
        await serving(envelope, release);
      },
      async (envelope) => void seen.abandoned.push(envelope),
      (err) => seen.errors.push(err),
    );
    await c.start();
    consumers.push(c);
    t.after(() => c.stop());
    return seen;
  }

  it('serves an envelope the API put on the lane, then files it off its held list', async (t) => {
    const holder = await addToLane(redis, keys.lane(queue), keys.queuedRequests(queue), [job('a'), job('b')]);
    assert.equal(holder.items, 2);
    assert.equal(await redis.get(keys.queuedRequests(queue)), '2', 'counted with the add');
    const seen = await consumer(t, 'w1');
    await until('served', () => seen.served.length === 1);
    await until('counted off at pick-up', async () => (await redis.get(keys.queuedRequests(queue))) === '0');
    assert.deepEqual(
      seen.served[0]![0].items.map((i) => i.id),
      ['a', 'b'],
    );
    assert.equal(seen.served[0]![1], 1, 'first delivery');
    await until('held list empty', async () => (await redis.llen(keys.laneHeld(queue, 'w1'))) === 0);
    assert.equal(await redis.llen(keys.lane(queue)), 0);
    assert.deepEqual(seen.errors, []);
  });

  it('serves an envelope that emptied the lane before reading again; reads on while envelopes wait', async (t) => {
    const lane = keys.lane(queue);
    const counter = keys.queuedRequests(queue);
    const gates = new Map<string, () => void>();
    const gate = (envelope: ScoringEnvelope): Promise<void> =>
      new Promise<void>((r) => gates.set(envelope.items[0]!.id, r));
    const seen = await consumer(t, 'w5', { idleFinishMs: 60_000 }, gate);
    // Stopping waits for held envelopes: never leave one gated, whatever fails.
    try {
      await addToLane(redis, lane, counter, [job('first')]);
      await until('the first served', () => gates.has('first'));
      // Being served, with the lane empty after its move: the next envelope waits in the lane.
      await addToLane(redis, lane, counter, [job('second')]);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(await redis.llen(lane), 1, 'no read while the envelope that drained the lane is served');
      assert.equal(seen.served.length, 1);
      gates.get('first')!();
      await until('the second served once the first was', () => gates.has('second'));
      // Two envelopes waiting at a read: the first's move leaves one behind, so reading goes on.
      await addToLane(redis, lane, counter, [job('third')]);
      await addToLane(redis, lane, counter, [job('fourth')]);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(await redis.llen(lane), 2, 'the read after the second waits for it');
      gates.get('second')!();
      await until('third and fourth served at once', () => gates.has('third') && gates.has('fourth'));
      for (const id of ['third', 'fourth']) gates.get(id)!();
      await until('held list empty', async () => (await redis.llen(keys.laneHeld(queue, 'w5'))) === 0);
      assert.deepEqual(seen.errors, []);
    } finally {
      gates.forEach((open) => open());
    }
  });

  it('sends the last reply of an envelope that emptied the lane in the same write as the next read', async (t) => {
    const lane = keys.lane(queue);
    const counter = keys.queuedRequests(queue);
    const replies = `${prefix}:replies`;
    // Who sent what, in order, as Redis saw it.
    const monitor = await redis.monitor();
    const log: { from: string; command: string[] }[] = [];
    monitor.on('monitor', (_time: string, args: string[], source: string) =>
      log.push({ from: source, command: args.map((a, i) => (i === 0 ? a.toLowerCase() : a)) }),
    );
    t.after(() => monitor.disconnect());
    let slow = false;
    const seen = await consumer(t, 'w6', { idleFinishMs: 50 }, async (envelope, release) => {
      if (slow) await new Promise((r) => setTimeout(r, 200));
      const item = envelope.items[0]!;
      await new ReplyPublisher(seen.commands, keys).publish(
        replies,
        { id: item.id, ok: false, status: 400, error: 'x' },
        item.deadline,
        release,
      );
    });
    // Asked of another connection: the lane connection is blocked in its read.
    const clients = String(await redis.client('LIST'));
    const addressOf = (name: string): string => new RegExp(`addr=(\\S+) .*name=${name} `).exec(clients)![1]!;
    const [reader, writer] = [addressOf('w6-lane'), addressOf('w6-commands')];
    /** The connection that published the reply to `id`, and its commands from there on. */
    const publishedBy = (id: string): { from: string; then: string[] } | undefined => {
      const at = log.findIndex((e) => e.command[0] === 'publish' && e.command[2]!.includes(`"${id}"`));
      if (at < 0) return undefined;
      const from = log[at]!.from;
      return { from, then: log.slice(at).flatMap((e) => (e.from === from ? [e.command[0]!] : [])) };
    };

    await addToLane(redis, lane, counter, [job('quick')]);
    await until('quick replied and filed off', () => publishedBy('quick')?.then.includes('lrem') === true);
    // Served slower than idleFinishMs: the read goes out alone, and the reply on its own.
    slow = true;
    await addToLane(redis, lane, counter, [job('slow')]);
    // Redis shows a blocking command once it runs: here, once the second envelope came.
    await until('the read after quick ran', () => publishedBy('quick')!.then.includes('llen'));
    const quick = publishedBy('quick')!;
    assert.equal(quick.from, reader, 'the reply went out on the lane connection');
    assert.deepEqual(quick.then.slice(0, 4), ['publish', 'lrem', 'blmove', 'llen'], 'in one pipeline with the read');
    const countOff = log.findIndex((e) => e.command[0] === 'decrby' && e.from === reader);
    const published = log.findIndex((e) => e.command[0] === 'publish');
    assert.ok(countOff >= 0 && countOff < published, 'the count-off opens that pipeline');

    await until('slow replied', () => publishedBy('slow') !== undefined);
    await until('slow filed off', () => publishedBy('slow')!.then.includes('lrem'));
    assert.equal(publishedBy('slow')!.from, writer, 'the reply went out on its own connection');
    assert.deepEqual(publishedBy('slow')!.then.slice(0, 2), ['publish', 'lrem']);
    await until('held list empty', async () => (await redis.llen(keys.laneHeld(queue, 'w6'))) === 0);
    assert.equal(await redis.get(counter), '0');
    assert.deepEqual(seen.errors, []);
  });

  it("takes back a dead worker's envelopes, and fails those taken back once already", async (t) => {
    // A worker that died holding two envelopes: its liveness key is gone, its held list stays.
    const fresh = encodeLaneEntry({ items: [job('fresh')] });
    const twice = `1|${JSON.stringify({ items: [job('twice')] })}`;
    await redis.lpush(keys.laneHeld(queue, 'dead'), fresh, twice);
    await redis.sadd(keys.laneWorkers(queue), 'dead');
    const seen = await consumer(t, 'w2');
    await until('the fresh one served again', () =>
      seen.served.some(([e, attempt]) => e.items[0]!.id === 'fresh' && attempt === 2),
    );
    await until('the twice-taken one abandoned', () => seen.abandoned.length === 1);
    assert.equal(seen.abandoned[0]!.items[0]!.id, 'twice');
    assert.ok(!seen.served.some(([e]) => e.items[0]!.id === 'twice'), 'not run a third time');
    assert.equal(await redis.llen(keys.laneHeld(queue, 'dead')), 0);
    assert.equal(await redis.sismember(keys.laneWorkers(queue), 'dead'), 0, 'the dead worker is forgotten');
    assert.equal(await redis.get(keys.laneTakenBack(queue)), '2');
  });

  it('leaves a live worker’s envelopes alone', async (t) => {
    const entry = encodeLaneEntry({ items: [job('busy')] });
    await redis.set(keys.laneAlive(queue, 'alive'), '1', 'PX', 10_000);
    await redis.lpush(keys.laneHeld(queue, 'alive'), entry);
    await redis.sadd(keys.laneWorkers(queue), 'alive');
    const seen = await consumer(t, 'w3');
    await new Promise((r) => setTimeout(r, 400)); // several sweeps
    assert.ok(!seen.served.some(([e]) => e.items[0]!.id === 'busy'));
    assert.equal(await redis.llen(keys.laneHeld(queue, 'alive')), 1);
  });

  it('stops while blocked on an empty lane, and says goodbye', async (t) => {
    const seen = await consumer(t, 'w4');
    await consumers[consumers.length - 1]!.stop();
    assert.equal(await redis.exists(keys.laneAlive(queue, 'w4')), 0);
    assert.equal(await redis.sismember(keys.laneWorkers(queue), 'w4'), 0);
    // Stopped: a new envelope waits for another worker.
    await addToLane(redis, keys.lane(queue), keys.queuedRequests(queue), [job('later')]);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(seen.served.length, 0);
    assert.equal(await redis.llen(keys.lane(queue)), 1, 'the envelope waits in the lane');
  });
});
