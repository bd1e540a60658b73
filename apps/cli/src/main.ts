#!/usr/bin/env node
import { Command, Option } from 'commander';
import { ApiError, call, uploadForm, type Connection } from './client.js';
import { emit, table } from './output.js';

/** `switchyard`: the management API from the command line. */
const program = new Command('switchyard')
  .description('Manage Switchyard models, endpoints, deployments, traffic and keys')
  .addOption(new Option('--url <url>', 'API base URL').env('SWITCHYARD_URL').default('http://127.0.0.1:8080'))
  .addOption(new Option('--admin-key <key>', 'admin API key').env('SWITCHYARD_ADMIN_KEY'))
  .option('--json', 'print JSON instead of tables', false)
  .showHelpAfterError();

interface Globals {
  url: string;
  adminKey?: string;
  json: boolean;
}

const globals = (): Globals => program.opts<Globals>();
const conn = (): Connection => ({ url: globals().url, adminKey: globals().adminKey });
const api = (method: string, path: string, body?: unknown) => call(conn(), method, path, body);
const seg = encodeURIComponent;

type Json = Record<string, unknown>;
interface VersionView {
  version: string;
  source?: string;
  platform?: string;
  sha256?: string;
  created_at?: string;
  description?: string;
  inputs?: { name: string; datatype: string; shape: number[] }[];
}
interface DeploymentStatus {
  name: string;
  model: string;
  version: string;
  workers: number;
  serving: string[];
  queue_depth: number;
  ready: boolean;
}

/** `name=weight` pairs → object. */
function pairs(items: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of items) {
    const match = /^([^=]+)=(\d+)$/.exec(item);
    if (!match) throw new ApiError(`'${item}' is not name=percent`);
    out[match[1]!] = Number(match[2]);
  }
  return out;
}

const int = (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n)) throw new ApiError(`'${v}' is not an integer`);
  return n;
};

// ---- models ----------------------------------------------------------------------------------
const model = program.command('model').description('the model registry');

model
  .command('list')
  .description('registered models and their versions')
  .action(async () => {
    const res = (await api('GET', '/v1/management/models')) as { models: { name: string; versions: string[] }[] };
    emit(globals().json, res, () =>
      table(
        ['MODEL', 'VERSIONS'],
        res.models.map((m) => [m.name, m.versions.join(', ')]),
      ),
    );
  });

model
  .command('show <model>')
  .description('the versions of a model')
  .action(async (name: string) => {
    const res = (await api('GET', `/v1/management/models/${seg(name)}`)) as { name: string; versions: VersionView[] };
    emit(globals().json, res, () => versionTable(res.versions));
  });

model
  .command('register <model>')
  .description('register a version already in the model repository')
  .requiredOption('--path <repository_path>', 'version directory in the repository, e.g. faq/1')
  .option('--version <n>', 'version number (default: next free)')
  .option('--description <text>')
  .action(async (name: string, o: { path: string; version?: string; description?: string }) => {
    const res = (await api('POST', `/v1/management/models/${seg(name)}/versions`, {
      repository_path: o.path,
      version: o.version,
      description: o.description,
    })) as VersionView;
    emit(globals().json, res, () => `registered ${name} version ${res.version}\n${versionTable([res])}`);
  });

model
  .command('upload <model> <file>')
  .description('upload an ONNX file as a new version')
  .option('--config <file>', 'model config (JSON)')
  .option('--labels <file>', 'labels file (JSON)')
  .option('--version <n>', 'version number (default: next free)')
  .option('--description <text>')
  .action(
    async (
      name: string,
      file: string,
      o: { config?: string; labels?: string; version?: string; description?: string },
    ) => {
      const form = await uploadForm(file, o);
      const res = (await api('POST', `/v1/management/models/${seg(name)}/versions`, form)) as VersionView;
      emit(globals().json, res, () => `uploaded ${name} version ${res.version}\n${versionTable([res])}`);
    },
  );

function versionTable(versions: VersionView[]): string {
  return table(
    ['VERSION', 'SOURCE', 'PLATFORM', 'INPUTS', 'SHA256', 'CREATED'],
    versions.map((v) => [
      v.version,
      v.source,
      v.platform,
      (v.inputs ?? []).map((i) => `${i.name}:${i.datatype}[${i.shape.join(',')}]`).join(' '),
      v.sha256?.slice(0, 12),
      v.created_at,
    ]),
  );
}

// ---- endpoints -------------------------------------------------------------------------------
const endpoint = program.command('endpoint').description('endpoints, deployments, traffic and mirroring');

endpoint
  .command('create <endpoint>')
  .description('create an endpoint; prints its two keys (shown this once)')
  .option('--description <text>')
  .action(async (name: string, o: { description?: string }) => {
    const res = (await api('POST', '/v1/management/endpoints', { name, description: o.description })) as {
      keys: { primary: string; secondary: string };
    };
    emit(
      globals().json,
      res,
      () =>
        `created endpoint ${name}\nprimary key:   ${res.keys.primary}\nsecondary key: ${res.keys.secondary}\n` +
        'Store these keys now: they are not shown again.',
    );
  });

endpoint.command('list').action(async () => {
  const res = (await api('GET', '/v1/management/endpoints')) as { endpoints: Json[] };
  emit(globals().json, res, () =>
    table(
      ['ENDPOINT', 'DEPLOYMENTS', 'TRAFFIC', 'MIRROR', 'REVISION'],
      res.endpoints.map((e) => [
        e.name as string,
        Object.keys(e.deployments as Json).join(', '),
        traffic(e.traffic as Record<string, number>),
        mirror(e.mirror as Json | undefined),
        e.revision as number,
      ]),
    ),
  );
});

endpoint.command('show <endpoint>').action(async (name: string) => {
  const res = (await api('GET', `/v1/management/endpoints/${seg(name)}`)) as Json & {
    deployment_status: DeploymentStatus[];
  };
  emit(
    globals().json,
    res,
    () =>
      `endpoint: ${name}\ntraffic:  ${traffic(res.traffic as Record<string, number>) || '(none)'}\n` +
      `mirror:   ${mirror(res.mirror as Json | undefined) || '(off)'}\nrevision: ${String(res.revision)}\n\n` +
      deploymentTable(res.deployment_status),
  );
});

endpoint.command('delete <endpoint>').action(async (name: string) => {
  await api('DELETE', `/v1/management/endpoints/${seg(name)}`);
  emit(globals().json, { deleted: name }, () => `deleted endpoint ${name}`);
});

endpoint
  .command('deploy <endpoint> <deployment>')
  .description('create a deployment or switch it to another version/settings')
  .requiredOption('--model <model>')
  .requiredOption('--version <n>')
  .option('--max-batch-size <n>', 'max batch size', int)
  .option('--max-queue-delay-ms <n>', 'batching delay', int)
  .option('--max-queue-size <n>', 'queue bound', int)
  .option('--default-timeout-ms <n>', 'default request timeout', int)
  .option('--device <device>', 'cpu or cuda')
  .option('--intra-op-threads <n>', 'onnxruntime threads', int)
  .option('--instance-count <n>', 'sessions per worker, each running a batch at once', int)
  .action(async (name: string, deployment: string, o: Json) => {
    const settings: Json = {};
    for (const [flag, key] of [
      ['maxBatchSize', 'max_batch_size'],
      ['maxQueueDelayMs', 'max_queue_delay_ms'],
      ['maxQueueSize', 'max_queue_size'],
      ['defaultTimeoutMs', 'default_timeout_ms'],
      ['device', 'device'],
      ['intraOpThreads', 'intra_op_threads'],
      ['instanceCount', 'instance_count'],
    ] as const) {
      if (o[flag] !== undefined) settings[key] = o[flag];
    }
    const res = (await api('PUT', `/v1/management/endpoints/${seg(name)}/deployments/${seg(deployment)}`, {
      model: o.model,
      version: o.version,
      settings,
    })) as Json;
    emit(
      globals().json,
      res,
      () =>
        `deployed ${String(o.model)} version ${String(o.version)} as ${name}/${deployment} (revision ${String(res.revision)})`,
    );
  });

endpoint.command('undeploy <endpoint> <deployment>').action(async (name: string, deployment: string) => {
  await api('DELETE', `/v1/management/endpoints/${seg(name)}/deployments/${seg(deployment)}`);
  emit(globals().json, { deleted: deployment }, () => `removed deployment ${name}/${deployment}`);
});

endpoint
  .command('traffic <endpoint> <split...>')
  .description('set the traffic split, e.g. blue=90 green=10')
  .action(async (name: string, split: string[]) => {
    const res = (await api('PUT', `/v1/management/endpoints/${seg(name)}/traffic`, pairs(split))) as {
      traffic: Record<string, number>;
    };
    emit(globals().json, res, () => `traffic for ${name}: ${traffic(res.traffic) || '(none)'}`);
  });

endpoint
  .command('mirror <endpoint> <deployment=percent>')
  .description('mirror a share of traffic to a deployment, e.g. green=10 (0 stops)')
  .action(async (name: string, spec: string) => {
    const [[deployment, percent]] = Object.entries(pairs([spec])) as [[string, number]];
    const res = (await api('PUT', `/v1/management/endpoints/${seg(name)}/mirror`, { deployment, percent })) as {
      mirror: Json | null;
    };
    emit(globals().json, res, () => `mirror for ${name}: ${mirror(res.mirror ?? undefined) || '(off)'}`);
  });

// ---- keys and deployments --------------------------------------------------------------------
program
  .command('keys')
  .description('endpoint keys')
  .command('regenerate <endpoint>')
  .description('replace one key; the other keeps working')
  .option('--primary', 'regenerate the primary key')
  .option('--secondary', 'regenerate the secondary key')
  .action(async (name: string, o: { primary?: boolean; secondary?: boolean }) => {
    if (Boolean(o.primary) === Boolean(o.secondary)) throw new ApiError('pass exactly one of --primary or --secondary');
    const key = o.primary ? 'primary' : 'secondary';
    const res = (await api('POST', `/v1/management/endpoints/${seg(name)}/keys/regenerate`, { key })) as {
      key: string;
    };
    emit(globals().json, res, () => `new ${key} key for ${name}: ${res.key}\nStore it now: it is not shown again.`);
  });

program
  .command('deployments <endpoint>')
  .description("an endpoint's deployments with their workers and queues")
  .action(async (name: string) => {
    const res = (await api('GET', `/v1/management/endpoints/${seg(name)}/deployments`)) as {
      deployments: DeploymentStatus[];
    };
    emit(globals().json, res, () => deploymentTable(res.deployments));
  });

function deploymentTable(rows: DeploymentStatus[]): string {
  return table(
    ['DEPLOYMENT', 'MODEL', 'VERSION', 'WORKERS', 'SERVING', 'QUEUE DEPTH', 'READY'],
    rows.map((d) => [
      d.name,
      d.model,
      d.version,
      d.workers,
      d.serving.join(',') || '-',
      d.queue_depth,
      d.ready ? 'yes' : 'no',
    ]),
  );
}

function traffic(split: Record<string, number> | undefined): string {
  return Object.entries(split ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
}

function mirror(m: Json | undefined): string {
  return m ? `${String(m.deployment)}=${String(m.percent)}` : '';
}

program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
