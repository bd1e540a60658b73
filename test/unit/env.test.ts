// The env classes use class-transformer's @Type, which needs the Reflect metadata API that
// the apps' entry points load first; do the same here.
import 'reflect-metadata';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ApiEnv, parseEnv, WorkerEnv } from '../../libs/runtime/src/config/env.js';
import { ConfigError } from '../../libs/runtime/src/repository/config-error.js';
import { unixSocketOptions } from '../../libs/runtime/src/transport/redis-connection.js';

/** Asserts that parsing refuses with a ConfigError naming `variable`. */
function refuses(fn: () => unknown, variable: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    assert.match(err.message, /^invalid environment:/);
    assert.match(err.message, new RegExp(`- ${variable}: `));
    return true;
  });
}

describe('parseEnv(ApiEnv)', () => {
  it('applies the defaults to an empty environment', () => {
    const env = parseEnv(ApiEnv, {});
    assert.ok(env instanceof ApiEnv);
    assert.equal(env.PORT, 8080);
    assert.equal(typeof env.PORT, 'number');
    assert.equal(env.BODY_LIMIT_BYTES, 16 * 1024 * 1024);
    assert.equal(env.HOST, '127.0.0.1');
    assert.equal(env.REDIS_PREFIX, 'sy');
    assert.equal(env.MODEL_REPOSITORY, './models');
    assert.equal(env.LOG_LEVEL, 'info');
    assert.equal(env.REDIS_URL, undefined);
  });

  it('parses numeric variables from strings', () => {
    const env = parseEnv(ApiEnv, { PORT: '9000', BODY_LIMIT_BYTES: '2048' });
    assert.equal(env.PORT, 9000);
    assert.equal(env.BODY_LIMIT_BYTES, 2048);
  });

  it('treats an empty variable as unset', () => {
    assert.equal(parseEnv(ApiEnv, { PORT: '' }).PORT, 8080);
  });

  it('keeps the given strings and drops unrelated variables', () => {
    const env = parseEnv(ApiEnv, { REDIS_URL: 'rediss://:pw@cache:6380/1', LOG_LEVEL: 'debug', PATH: '/usr/bin' });
    assert.equal(env.REDIS_URL, 'rediss://:pw@cache:6380/1');
    assert.equal(env.LOG_LEVEL, 'debug');
    assert.equal('PATH' in env, false);
  });

  for (const port of ['abc', '70000', '-1', '80.5']) {
    it(`refuses PORT=${port}, naming PORT`, () => {
      refuses(() => parseEnv(ApiEnv, { PORT: port }), 'PORT');
    });
  }

  it('refuses a REDIS_URL that is not a redis:// URL', () => {
    refuses(() => parseEnv(ApiEnv, { REDIS_URL: 'http://cache:6379' }), 'REDIS_URL');
  });

  it('takes a Unix socket as unix:///absolute/path, and refuses a relative or empty one', () => {
    const env = parseEnv(ApiEnv, { REDIS_URL: 'unix:///run/redis/redis.sock?db=2' });
    assert.equal(env.REDIS_URL, 'unix:///run/redis/redis.sock?db=2');
    refuses(() => parseEnv(ApiEnv, { REDIS_URL: 'unix://run/redis.sock' }), 'REDIS_URL');
    refuses(() => parseEnv(ApiEnv, { REDIS_URL: 'unix:///' }), 'REDIS_URL');
  });

  it('reads the socket path, database and password of a unix: URL', () => {
    assert.deepEqual(unixSocketOptions('unix:///run/redis/redis.sock'), { path: '/run/redis/redis.sock' });
    assert.deepEqual(unixSocketOptions('unix:///tmp/my%20dir/r.sock?db=4&password=s%3Dcret'), {
      path: '/tmp/my dir/r.sock',
      db: 4,
      password: 's=cret',
    });
  });

  it('refuses an unknown LOG_LEVEL', () => {
    refuses(() => parseEnv(ApiEnv, { LOG_LEVEL: 'verbose' }), 'LOG_LEVEL');
  });

  it('reports every bad variable at once', () => {
    assert.throws(
      () => parseEnv(ApiEnv, { PORT: 'x', REDIS_URL: 'localhost' }),
      (err: unknown) => err instanceof ConfigError && /PORT: /.test(err.message) && /REDIS_URL: /.test(err.message),
    );
  });
});

describe('parseEnv(WorkerEnv)', () => {
  it('accepts DEPLOYMENT as <endpoint>/<deployment> and refuses other forms', () => {
    assert.equal(parseEnv(WorkerEnv, { DEPLOYMENT: 'faq/blue' }).DEPLOYMENT, 'faq/blue');
    refuses(() => parseEnv(WorkerEnv, { DEPLOYMENT: 'faq' }), 'DEPLOYMENT');
    refuses(() => parseEnv(WorkerEnv, { DEPLOYMENT: 'FAQ/Blue' }), 'DEPLOYMENT');
  });

  it('accepts a model name and applies the worker defaults', () => {
    const env = parseEnv(WorkerEnv, { MODEL: 'sum' });
    assert.equal(env.MODEL, 'sum');
    assert.equal(env.HEALTH_PORT, 8081);
    assert.equal(env.LOCK_DURATION_MS, 5_000);
    assert.equal(env.STALLED_INTERVAL_MS, 2_000);
    assert.equal(env.WORKER_CONCURRENCY, undefined);
    assert.equal(env.MODEL_VERSION, undefined);
  });

  it('parses the worker numbers and options', () => {
    const env = parseEnv(WorkerEnv, { MODEL: 'sum', MODEL_VERSION: '2', DEVICE: 'cuda', WORKER_CONCURRENCY: '16' });
    assert.equal(env.MODEL_VERSION, '2');
    assert.equal(env.DEVICE, 'cuda');
    assert.equal(env.WORKER_CONCURRENCY, 16);
  });

  for (const model of ['../etc', 'a b', '-sum']) {
    it(`refuses MODEL=${JSON.stringify(model)}`, () => {
      refuses(() => parseEnv(WorkerEnv, { MODEL: model }), 'MODEL');
    });
  }

  it('refuses a MODEL_VERSION that is not a positive integer', () => {
    refuses(() => parseEnv(WorkerEnv, { MODEL: 'sum', MODEL_VERSION: '0' }), 'MODEL_VERSION');
  });

  it('refuses DEVICE=tpu', () => {
    refuses(() => parseEnv(WorkerEnv, { MODEL: 'sum', DEVICE: 'tpu' }), 'DEVICE');
  });
});
