#!/usr/bin/env node
// Runs the compiled test files with node's built-in test runner, one file at a time (the
// end-to-end files start real processes; running them side by side on 2 cores only adds noise).
// The end-to-end tests need Redis: TEST_REDIS_URL, else 127.0.0.1:6379, else a private
// redis-server started here on a free port (and stopped at the end).
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { join } from 'node:path';

const roots = process.argv.length > 2 ? process.argv.slice(2) : ['dist/test/unit', 'dist/test/e2e'];
const files = roots
  .flatMap((root) => (statSync(root).isDirectory() ? walk(root) : [root]))
  .filter((f) => f.endsWith('.test.js'))
  .sort();
if (files.length === 0) {
  console.error('no test files found under', roots.join(', '));
  process.exit(1);
}

let privateRedis;
if (!process.env.TEST_REDIS_URL && !(await answersPing(6379))) {
  const port = await freePort();
  console.log(`# no Redis on 127.0.0.1:6379: starting a private redis-server on port ${port}`);
  privateRedis = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: 'ignore',
    },
  );
  privateRedis.on('error', (err) => {
    console.error(`cannot start redis-server (${err.message}): install Redis or set TEST_REDIS_URL`);
    process.exit(1);
  });
  for (let i = 0; i < 50 && !(await answersPing(port)); i++) await new Promise((r) => setTimeout(r, 100));
  process.env.TEST_REDIS_URL = `redis://127.0.0.1:${port}`;
}

// A test's own bounds (readiness, `eventually`) say what is too slow; this one only catches a
// hang. It is wide because on a virtual machine its host starves, starting one API or worker
// process was seen to take ~50 s, and a file that starts eight of them in turn took over 300 s.
const result = spawnSync(process.execPath, ['--test', '--test-concurrency=1', '--test-timeout=900000', ...files], {
  stdio: 'inherit',
});
privateRedis?.kill();
process.exit(result.status ?? 1);

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? (name === 'support' ? [] : walk(path)) : [path];
  });
}

function answersPing(port) {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.setTimeout(500);
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (d) => {
      socket.destroy();
      resolve(d.toString().startsWith('+PONG'));
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}
