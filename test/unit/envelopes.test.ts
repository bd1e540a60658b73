import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { isEnvelope, type ScoringJob, type ScoringReply } from '../../libs/contracts/src/index.js';
import { addEnveloped, type BulkJob } from '../../libs/runtime/src/transport/envelope-adds.js';
import { RedisKeys, waitingRequests } from '../../libs/runtime/src/transport/redis-keys.js';
import { ReplyPublisher, type AlsoSend } from '../../libs/runtime/src/transport/reply-publisher.js';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

function job(id: string, extra: Partial<ScoringJob> = {}): ScoringJob {
  return {
    id,
    model: 'm',
    kind: 'tensors',
    replyTo: 'chan',
    deadline: Date.now() + 10_000,
    acceptedAt: Date.now(),
    ...extra,
  } as ScoringJob;
}

describe('addEnveloped', () => {
  it('puts one tick of synchronous requests in one envelope per priority, and each async job alone', async () => {
    const added: BulkJob[][] = [];
    const holders = await addEnveloped({ addBulk: async (jobs) => added.push(jobs) }, [
      job('a'),
      job('b', { priority: 5 }),
      job('c'),
      job('d', { async: { ttlS: 60, notify: false } }),
      job('e', { priority: 5 }),
    ]);
    assert.equal(added.length, 1, 'one addBulk: one round trip');
    const [bulk] = added;
    assert.equal(bulk!.length, 3, 'default envelope, priority-5 envelope, async job');
    const byId = new Map(bulk!.map((b) => [b.opts.jobId, b]));
    assert.deepEqual(
      holders.map((h) => h.items),
      [2, 2, 2, 1, 2],
    );
    assert.equal(holders[0], holders[2], 'a and c share their envelope');
    assert.equal(holders[1], holders[4], 'b and e share theirs');
    assert.notEqual(holders[0], holders[1]);
    const first = byId.get(holders[0]!.jobId)!;
    assert.ok(isEnvelope(first.data) && first.data.items.map((i) => i.id).join() === 'a,c');
    assert.equal(first.opts.priority, undefined);
    assert.equal(byId.get(holders[1]!.jobId)!.opts.priority, 5);
    assert.match(holders[0]!.jobId, /^e-[0-9a-f-]{36}$/);
    const single = byId.get('d')!;
    assert.equal(holders[3]!.jobId, 'd', 'an async job is found by its own id');
    assert.ok(!isEnvelope(single.data));
  });

  it('rejects when Redis refuses the add', async () => {
    await assert.rejects(addEnveloped({ addBulk: () => Promise.reject(new Error('down')) }, [job('a')]), /down/);
  });
});

describe('waitingRequests', () => {
  it('counts at least one request per waiting job and none when no job waits', () => {
    assert.equal(waitingRequests(0, 12), 0, 'an empty queue heals a drifted counter');
    assert.equal(waitingRequests(3, 40), 40);
    assert.equal(waitingRequests(3, 1), 3);
    assert.equal(waitingRequests(2, -5), 2);
  });
});

describe('ReplyPublisher (real Redis)', () => {
  const prefix = `unit-pub-${process.pid}-${Date.now()}`;
  const keys = new RedisKeys(prefix);
  let redis: Redis;
  let subscriber: Redis;
  const messages: { channel: string; body: unknown }[] = [];

  before(async () => {
    redis = new Redis(REDIS_URL);
    subscriber = new Redis(REDIS_URL);
    subscriber.on('message', (channel: string, body: string) => messages.push({ channel, body: JSON.parse(body) }));
    await subscriber.subscribe(`${prefix}:a`, `${prefix}:b`);
  });

  after(async () => {
    const left = await redis.keys(`${prefix}:*`);
    if (left.length > 0) await redis.del(...left);
    subscriber.disconnect();
    redis.disconnect();
  });

  it('sends one message per API instance for the replies of one tick, and keeps unreceived ones until their deadline', async () => {
    const publisher = new ReplyPublisher(redis, keys);
    const reply = (id: string): ScoringReply => ({ id, ok: false, status: 400, error: 'x' });
    const deadline = Date.now() + 2_000;
    const received = await Promise.all([
      publisher.publish(`${prefix}:a`, reply('1'), deadline),
      publisher.publish(`${prefix}:a`, reply('2'), deadline),
      publisher.publish(`${prefix}:b`, reply('3'), deadline),
      publisher.publish(`${prefix}:nobody`, reply('4'), deadline),
    ]);
    assert.deepEqual(received, [1, 1, 1, 0]);
    for (let i = 0; i < 50 && messages.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    const toA = messages.filter((m) => m.channel === `${prefix}:a`);
    const toB = messages.filter((m) => m.channel === `${prefix}:b`);
    assert.equal(toA.length, 1, 'one PUBLISH for both replies to a');
    assert.deepEqual(
      (toA[0]!.body as ScoringReply[]).map((r) => r.id),
      ['1', '2'],
    );
    assert.equal((toB[0]!.body as ScoringReply).id, '3', 'a single reply travels as an object');
    const missed = await redis.get(keys.missedReply('4'));
    assert.equal((JSON.parse(missed!) as ScoringReply).id, '4');
    const ttl = await redis.pttl(keys.missedReply('4'));
    assert.ok(ttl > 2_000 && ttl <= 7_000, `kept until the deadline plus grace (pttl ${ttl})`);
    assert.equal(await redis.exists(keys.missedReply('1')), 0, 'received replies are not kept');
  });

  it('lets a connection that is about to write carry a flush; its results come before that write is done', async () => {
    const publisher = new ReplyPublisher(redis, keys);
    const carrier = new Redis(REDIS_URL);
    try {
      const released = `${prefix}:released`;
      let carried: Promise<unknown> | undefined;
      let carriedDone = false;
      const also = (accept: boolean): AlsoSend => ({
        add: (pipeline) => void pipeline.incr(released),
        carry: (flush) => {
          if (!accept) return false;
          // A write that blocks after the flush, like the lane's next read.
          const pipeline = carrier.pipeline();
          flush(pipeline);
          pipeline.blpop(`${prefix}:wake`, 5);
          carried = pipeline.exec().then(() => (carriedDone = true));
          return true;
        },
      });
      const reply = (id: string): ScoringReply => ({ id, ok: false, status: 400, error: 'x' });
      const deadline = Date.now() + 2_000;
      assert.equal(await publisher.publish(`${prefix}:a`, reply('5'), deadline, also(true)), 1);
      assert.ok(carried, 'the carrier took the flush');
      assert.equal(carriedDone, false, 'the receivers were known while the carried write still blocked');
      assert.equal(await redis.get(released), '1', 'what rides along went with it');
      await redis.lpush(`${prefix}:wake`, '1');
      await carried;
      assert.equal(
        await publisher.publish(`${prefix}:nobody`, reply('6'), deadline, also(true)),
        0,
        'an unreceived carried reply is counted as such',
      );
      assert.equal(await redis.exists(keys.missedReply('6')), 1, '... and kept');
      // Declined: the flush goes out on the publisher's own connection.
      assert.equal(await publisher.publish(`${prefix}:a`, reply('7'), deadline, also(false)), 1);
      assert.equal(await redis.get(released), '3');
      await redis.lpush(`${prefix}:wake`, '2');
      await carried;
      for (let i = 0; i < 50 && !messages.some((m) => (m.body as ScoringReply).id === '7'); i++)
        await new Promise((r) => setTimeout(r, 10));
      assert.deepEqual(
        messages.filter((m) => ['5', '7'].includes((m.body as ScoringReply).id)).map((m) => m.channel),
        [`${prefix}:a`, `${prefix}:a`],
      );
    } finally {
      carrier.disconnect();
    }
  });
});
