// Static validation of docker-compose.yml and the opt-in docker-compose.endpoints.yml (merged as
// `docker compose -f docker-compose.yml -f docker-compose.endpoints.yml` does), with no Docker
// engine, against the code, the models, the Dockerfile and the endpoints file.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Obj } from './support/deploy-code.js';
import { composeFrom, dotEnvExample, loadCompose, type Compose } from './support/deploy-compose.js';
import { checkComposeStack } from './support/deploy-compose-checks.js';
import { readYaml } from './support/deploy-kustomize.js';

const BASE = 'docker-compose.yml';
const OVERRIDE = 'docker-compose.endpoints.yml';

describe('deployment: docker compose', () => {
  it('Redis 7 keeps jobs (AOF, noeviction) and has a healthcheck', () => {
    const redis = loadCompose([BASE]).services.redis!;
    assert.match(redis.image, /^redis:7/);
    assert.match(redis.command.join(' '), /--appendonly yes/);
    assert.match(redis.command.join(' '), /--maxmemory-policy noeviction/);
    assert.deepEqual(redis.healthcheck.test, ['CMD', 'redis-cli', 'ping']);
  });

  it(`${BASE} alone: the API and a worker per reference model agree with the code`, async () => {
    await checkComposeStack(loadCompose([BASE]));
  });

  it(`${BASE} needs no .env: it interpolates nothing and runs without keys`, () => {
    assert.doesNotMatch(readFileSync(BASE, 'utf8'), /\$\{/);
    assert.equal(loadCompose([BASE]).services.api!.environment.AUTH, 'off');
  });

  it(`with ${OVERRIDE}: keys from .env, the endpoints file, and a worker for faq/blue`, async () => {
    const compose = loadCompose([BASE, OVERRIDE]);
    await checkComposeStack(compose);
    const api = compose.services.api!;
    assert.equal(api.environment.AUTH, 'on');
    assert.ok(api.volumes.includes('./examples/endpoints.yaml:/etc/switchyard/endpoints.yaml:ro'));
    assert.equal(compose.services['worker-faq-blue']!.environment.DEPLOYMENT, 'faq/blue');
  });

  it('.env stays untracked; .env.example lists the keys with no values', () => {
    const ignored = readFileSync('.gitignore', 'utf8').split('\n');
    assert.ok(ignored.includes('.env'), '.gitignore does not ignore .env');
    assert.ok(!ignored.some((l) => /^\.env[.*]/.test(l)), '.gitignore must not ignore .env.example');
    const example = dotEnvExample();
    for (const key of ['ADMIN_API_KEY', 'FAQ_PRIMARY_KEY', 'FAQ_SECONDARY_KEY'])
      assert.equal(example.get(key), '', key);
  });
});

describe('deployment: the compose checks catch broken files', () => {
  /** Base + override, with the override's parsed YAML changed in memory. */
  const broken = (change: (override: Obj) => void): Compose => {
    const [base] = readYaml(BASE);
    const [override] = readYaml(OVERRIDE);
    change(override!);
    return composeFrom([base!, override!]);
  };

  const cases: [string, RegExp, (o: Obj) => void][] = [
    [
      'key in the file',
      /FAQ_PRIMARY_KEY must come from .env/,
      (o) => (o.services.api.environment.FAQ_PRIMARY_KEY = 'k'.repeat(32)),
    ],
    [
      'optional key',
      /use \$\{NAME:\?message\}/,
      (o) => (o.services.api.environment.ADMIN_API_KEY = '${ADMIN_API_KEY}'),
    ],
    [
      'unlisted variable',
      /\.env\.example must list FAQ_TERTIARY_KEY/,
      (o) => {
        o.services.api.environment.FAQ_SECONDARY_KEY = '${FAQ_TERTIARY_KEY:?set it}';
      },
    ],
    [
      'file mount',
      /ENDPOINTS_FILE is not a read-only bind mount/,
      (o) => (o.services.api.environment.ENDPOINTS_FILE = '/etc/e.yaml'),
    ],
    [
      'deployment',
      /DEPLOYMENT=faq\/green is not in the endpoints file/,
      (o) => {
        o.services['worker-faq-blue'].environment.DEPLOYMENT = 'faq/green';
      },
    ],
    [
      'upload store',
      /worker-faq-blue: does not mount model-store read-only/,
      (o) => {
        o.services['worker-faq-blue'].volumes = ['./models:/models:ro'];
      },
    ],
    [
      'startup order',
      /worker-faq-blue: waits for a healthy API/,
      (o) => delete o.services['worker-faq-blue'].depends_on.api,
    ],
    [
      'unserved deployment',
      /no worker serves the endpoint deployment faq\/blue/,
      (o) => delete o.services['worker-faq-blue'],
    ],
  ];
  for (const [what, expected, change] of cases) {
    it(`${what}: ${expected.source}`, async () => {
      await assert.rejects(async () => checkComposeStack(broken(change)), expected);
    });
  }
});
