import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, it } from 'node:test';
import type { FastifyReply } from 'fastify';
import { clientGone } from '../../apps/api/src/http/client-abort.js';

describe('clientGone', () => {
  const response = () => Object.assign(new EventEmitter(), { destroyed: false, writableFinished: false });

  it('calls its listener when the connection closes before the response was written', () => {
    const raw = response();
    const gone = clientGone({ raw } as unknown as FastifyReply);
    let calls = 0;
    gone.addEventListener('abort', () => calls++);
    assert.equal(gone.aborted, false);
    raw.destroyed = true;
    assert.equal(gone.aborted, true);
    raw.emit('close');
    raw.emit('close');
    assert.equal(calls, 1);
  });

  it('stays quiet when the response was written', () => {
    const raw = response();
    const gone = clientGone({ raw } as unknown as FastifyReply);
    let calls = 0;
    gone.addEventListener('abort', () => calls++);
    raw.writableFinished = true;
    raw.destroyed = true;
    assert.equal(gone.aborted, false);
    raw.emit('close');
    assert.equal(calls, 0);
  });
});
