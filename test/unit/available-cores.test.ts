import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { availableCores, cpuQuota } from '../../libs/runtime/src/session/available-cores.js';
import { intraOpThreads } from '../../libs/runtime/src/session/loaded-model.js';

const roots: string[] = [];

/** A directory standing for `/`, holding the given files (paths relative to it). */
async function machine(files: Record<string, string>): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'sy-cgroup-'));
  roots.push(root);
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), text);
  }
  return root;
}

describe('available cores (cgroup CPU quota)', () => {
  after(async () => {
    await Promise.all(roots.map((r) => rm(r, { recursive: true, force: true })));
  });

  it('caps the CPUs by a cgroup v2 limit, rounded down, at least one', async () => {
    const limit = async (cpuMax: string): Promise<number> =>
      availableCores({
        root: await machine({ 'proc/self/cgroup': '0::/\n', 'sys/fs/cgroup/cpu.max': cpuMax }),
        affinity: 8,
      });
    assert.equal(await limit('200000 100000\n'), 2);
    assert.equal(await limit('150000 100000\n'), 1);
    assert.equal(await limit('50000 100000\n'), 1); // Kubernetes `cpu: 500m`
    assert.equal(await limit('max 100000\n'), 8);
    assert.equal(await limit('1600000 100000\n'), 8); // a limit above the CPUs it may run on
  });

  it("takes the smallest limit of the process's cgroup and its ancestors", async () => {
    const root = await machine({
      'proc/self/cgroup': '0::/kubepods.slice/pod-a/ctr-b\n',
      'sys/fs/cgroup/cpu.max': 'max 100000\n',
      'sys/fs/cgroup/kubepods.slice/pod-a/cpu.max': '300000 100000\n',
      'sys/fs/cgroup/kubepods.slice/pod-a/ctr-b/cpu.max': 'max 100000\n',
    });
    assert.equal(cpuQuota(root), 3);
    assert.equal(availableCores({ root, affinity: 16 }), 3);
  });

  it("reads cgroup v1's CFS quota, also where the container sees its own cgroup at the mount's root", async () => {
    const root = await machine({
      'proc/self/cgroup': '12:pids:/kubepods/pod-a/ctr-b\n4:cpu,cpuacct:/kubepods/pod-a/ctr-b\n1:name=systemd:/x\n',
      'sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us': '250000\n',
      'sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us': '100000\n',
    });
    assert.equal(cpuQuota(root), 2.5);
    assert.equal(availableCores({ root, affinity: 64 }), 2);
    const unlimited = await machine({
      'proc/self/cgroup': '4:cpu,cpuacct:/\n',
      'sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us': '-1\n',
      'sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us': '100000\n',
    });
    assert.equal(cpuQuota(unlimited), undefined);
    assert.equal(availableCores({ root: unlimited, affinity: 64 }), 64);
  });

  it('keeps the CPU count where there is no cgroup to read, or the files say nothing', async () => {
    assert.equal(availableCores({ root: await machine({}), affinity: 6 }), 6);
    const garbled = await machine({ 'proc/self/cgroup': 'garbage\n0::/\n', 'sys/fs/cgroup/cpu.max': 'lots\n' });
    assert.equal(availableCores({ root: garbled, affinity: 6 }), 6);
  });

  it('shares the limited cores among the sessions for intra_op_threads 0', async () => {
    const root = await machine({ 'proc/self/cgroup': '0::/\n', 'sys/fs/cgroup/cpu.max': '400000 100000\n' });
    const cores = availableCores({ root, affinity: 32 });
    assert.equal(intraOpThreads(0, 2, cores), 2);
    assert.equal(intraOpThreads(0, 1, cores), 4);
    assert.equal(intraOpThreads(3, 2, cores), 3); // a configured count is kept
  });
});
