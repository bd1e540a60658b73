// Static validation of the Dockerfile, .dockerignore and docker/healthcheck.mjs, with no Docker
// engine: targets, user, environment, CUDA provider install and check, COPY sources, routes.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { APPS, DEFAULTS, ENTRY, NODE_FLAGS, PORT_VAR, ROUTES } from './support/deploy-code.js';
import { dockerStages, inBuildContext, RUNTIME_STAGES } from './support/deploy-docker.js';

describe('deployment: Dockerfile', () => {
  const { stages } = dockerStages();
  const stage = (name: string) => stages.find((s) => s.name === name)!;

  it("starts the apps with Switchyard's V8 flags in the npm scripts too", () => {
    const scripts = (JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> }).scripts;
    const launches = Object.values(scripts).flatMap((s) => [
      ...s.matchAll(/\bnode ((?:--\S+ )*)dist\/apps\/(api|worker)\//g),
    ]);
    assert.ok(launches.length >= 2, 'npm start and start:worker run the apps');
    for (const [launch, flags] of launches) assert.equal(flags!.trim(), NODE_FLAGS.join(' '), launch);
  });

  it('has cpu (default, last) and gpu targets that run the API by default, as a non-root user', () => {
    assert.equal(stages.at(-1)?.name, 'cpu');
    assert.match(stage('cpu').from, /^node:20-bookworm-slim$/);
    // docs/deployment.md says how this tag was verified to exist (CUDA 12 + cuDNN 9 runtime).
    assert.match(stage('gpu').from, /^nvidia\/cuda:12\.[\d.]+-cudnn-runtime-ubuntu[\d.]+$/);
    for (const name of RUNTIME_STAGES) {
      const lines = stage(name).lines;
      const env = lines.filter((l) => l.startsWith('ENV ')).join(' ');
      for (const kv of ['NODE_ENV=production', 'HOST=0.0.0.0', 'LANG=C.UTF-8']) assert.ok(env.includes(kv), kv);
      const user = lines.filter((l) => l.startsWith('USER ')).at(-1);
      assert.ok(user && !/^USER (root|0)\b/.test(user), `${name}: runs as root`);
      assert.ok(
        lines.some((l) => /^HEALTHCHECK .*CMD \["node", "docker\/healthcheck.mjs"\]/.test(l)),
        name,
      );
      assert.equal(
        lines.filter((l) => l.startsWith('CMD ')).at(-1),
        `CMD ${JSON.stringify(['node', ...NODE_FLAGS, ENTRY.api]).replaceAll(',', ', ')}`,
      );
      assert.ok(lines.includes('COPY package.json ./'), `${name}: package.json ("imports") missing`);
      // Files the compiled app reads that tsc does not emit (the demo page's static files).
      for (const dir of ['apps/api/public'].filter(existsSync)) {
        assert.ok(lines.includes(`COPY ${dir} ./${dir}`), `${name}: ${dir} missing`);
      }
      // node_modules come from a deps stage; only the GPU one downloads the CUDA provider.
      const deps = /^COPY --from=(\S+) \/app\/node_modules/.exec(lines.find((l) => l.includes('node_modules'))!)![1]!;
      const install = stage(deps).lines.join('\n');
      assert.match(install, /npm ci --omit=dev/);
      assert.equal(/ONNXRUNTIME_NODE_INSTALL=cuda12 npm ci/.test(install), name === 'gpu', `${name}: CUDA install`);
    }
    assert.match(readFileSync('.npmrc', 'utf8'), /^onnxruntime-node-install=skip$/m);
  });

  it('the GPU build fails unless the CUDA provider is there and its libraries resolve in the base image', () => {
    const provider = 'node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime_providers_cuda.so';
    assert.ok(stage('deps-gpu').lines.some((l) => l.includes(`test -f ${provider}`)));
    const check = stage('gpu').lines.find((l) => l.startsWith('RUN ') && l.includes('ldd'));
    assert.ok(check, 'gpu: no ldd check of the CUDA provider');
    assert.match(check, /libonnxruntime_providers_cuda\.so/);
    assert.match(check, /grep 'not found'/);
    assert.match(check, /exit 1/);
    // It runs on the CUDA image, after node_modules are copied in.
    const lines = stage('gpu').lines;
    assert.ok(lines.indexOf(check) > lines.findIndex((l) => l.includes('/app/node_modules')));
  });

  it('COPY sources exist and are in the build context; dist, node_modules and .env are not', () => {
    const copies = stages.flatMap((s) => s.lines).filter((l) => /^COPY (?!--from)/.test(l));
    assert.ok(copies.length > 5);
    for (const line of copies) {
      const sources = line.split(/\s+/).slice(1, -1);
      for (const src of sources) {
        assert.ok(existsSync(src), `Dockerfile: COPY ${src}: no such file`);
        assert.ok(inBuildContext(relative('.', src)), `Dockerfile: COPY ${src} is excluded by .dockerignore`);
      }
    }
    for (const path of ['node_modules/x', 'dist/x', '.git/x', '.env', '.env.example']) {
      assert.ok(!inBuildContext(path), path);
    }
  });

  it('the built entry points exist, and the healthcheck script probes real routes', () => {
    for (const app of APPS) {
      assert.ok(existsSync(`apps/${app}/src/main.ts`) && existsSync(ENTRY[app]), ENTRY[app]);
    }
    assert.ok(ROUTES.api.has('/v2/health/ready') && ROUTES.api.has('/v2/health/live'));
    assert.ok(ROUTES.worker.has('/health/ready') && ROUTES.worker.has('/health/live'));
    // Prometheus scrapes both apps on their health port (the telemetry library's controller).
    assert.ok(ROUTES.api.has('/metrics') && ROUTES.worker.has('/metrics'), '/metrics is not served');
    const script = readFileSync('docker/healthcheck.mjs', 'utf8');
    for (const app of APPS) {
      const re = new RegExp(`\\$\\{process\\.env\\.${PORT_VAR[app]} \\|\\| (\\d+)\\}(/[\\w/]+)`);
      const [, port, path] = re.exec(script) ?? [];
      assert.equal(Number(port), DEFAULTS[app][PORT_VAR[app]], `healthcheck.mjs: ${app} port`);
      assert.ok(ROUTES[app].has(path!), `healthcheck.mjs: ${path} is not a ${app} route`);
    }
  });
});
