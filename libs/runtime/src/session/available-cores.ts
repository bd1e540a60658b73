import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, posix } from 'node:path';

/** Where the cgroup files are read: `/` on a real machine, a fixture directory in tests. */
export interface CgroupRoot {
  /** Directory standing for `/` (holds `proc/self/cgroup` and `sys/fs/cgroup`). @defaultValue '/' */
  root?: string;
  /** The CPUs the process may run on. @defaultValue os.availableParallelism() */
  affinity?: number;
}

/** cgroup v1 mounts of the `cpu` controller, as Docker, containerd and systemd name them. */
const V1_MOUNTS = ['sys/fs/cgroup/cpu,cpuacct', 'sys/fs/cgroup/cpu', 'sys/fs/cgroup/cpuacct,cpu'];

/**
 * The cores this process can keep busy: the CPUs it may run on, capped by its cgroup's CPU
 * quota (a container's CPU limit; Kubernetes `resources.limits.cpu`), rounded down, at least 1.
 *
 * Why not `os.availableParallelism()` alone: on Node 20 (libuv 1.46) it reads the affinity
 * mask only, so a worker limited to 2 CPUs on a 64-core node would start 64 intra-op threads
 * and spend most of each CFS period throttled (libuv reads the quota from 1.49.1 on).
 */
export function availableCores(options: CgroupRoot = {}): number {
  const root = options.root ?? '/';
  const affinity = options.affinity ?? availableParallelism();
  const quota = cpuQuota(root);
  return quota === undefined ? affinity : Math.max(1, Math.min(affinity, Math.floor(quota)));
}

/**
 * The CPU quota (CPUs' worth of time per period) of this process's cgroup and its ancestors,
 * the smallest that is set; undefined when none is (or the files cannot be read: no cgroup).
 */
export function cpuQuota(root = '/'): number | undefined {
  let lines: string[];
  try {
    lines = readFileSync(join(root, 'proc/self/cgroup'), 'utf8').split('\n');
  } catch {
    return undefined; // not Linux, or /proc not mounted: no quota to honour
  }
  const quotas: number[] = [];
  for (const line of lines) {
    // hierarchy-ID:controller-list:cgroup-path
    const [id, controllers, path] = line.split(':', 3);
    if (path === undefined) continue;
    if (id === '0' && controllers === '') {
      collect(quotas, join(root, 'sys/fs/cgroup'), path, readV2);
    } else if (controllers!.split(',').includes('cpu')) {
      for (const mount of V1_MOUNTS) collect(quotas, join(root, mount), path, readV1);
    }
  }
  return quotas.length > 0 ? Math.min(...quotas) : undefined;
}

/**
 * Reads the quota of the cgroup at `path` and of each ancestor up to the mount's root. Inside
 * a container the path may be the host's (no cgroup namespace) while the mount shows the
 * container's own cgroup at its root: the walk up reaches it either way.
 */
function collect(quotas: number[], mount: string, path: string, read: (dir: string) => number | undefined): void {
  for (let dir = posix.normalize(path); ; dir = posix.dirname(dir)) {
    const quota = read(join(mount, dir));
    if (quota !== undefined) quotas.push(quota);
    if (dir === '/' || dir === '.') return;
  }
}

/** cgroup v2 `cpu.max`: `<quota> <period>` in µs, or `max <period>` for no limit. */
function readV2(dir: string): number | undefined {
  const text = readIfThere(join(dir, 'cpu.max'));
  if (text === undefined) return undefined;
  const [quota, period] = text.trim().split(/\s+/);
  return ratio(quota, period);
}

/** cgroup v1 `cpu.cfs_quota_us` (-1 for no limit) over `cpu.cfs_period_us`. */
function readV1(dir: string): number | undefined {
  const quota = readIfThere(join(dir, 'cpu.cfs_quota_us'));
  const period = readIfThere(join(dir, 'cpu.cfs_period_us'));
  return quota === undefined || period === undefined ? undefined : ratio(quota.trim(), period.trim());
}

function ratio(quota: string | undefined, period: string | undefined): number | undefined {
  const q = Number(quota);
  const p = Number(period);
  return Number.isFinite(q) && Number.isFinite(p) && q > 0 && p > 0 ? q / p : undefined;
}

function readIfThere(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined; // this level of the hierarchy is not visible here, or sets nothing
  }
}
