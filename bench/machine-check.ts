import { readFileSync } from 'node:fs';

/**
 * Whether the machine gave the benchmark the CPU it claims to have. A virtual machine on a
 * busy host can be descheduled for hundreds of milliseconds at a time: every figure of such a
 * run (throughput, latency, CPU per request) measures the host, not Switchyard. Two checks say
 * so in the report instead of leaving the reader to guess:
 * - the kernel's CPU time accounting over the run: a guest that is not running accounts no
 *   time at all (or accounts it as steal), so accounted ÷ (wall × cores) falls below 1;
 * - a busy loop: the share of its wall time it actually ran, and its longest stall.
 */
export interface MachineCheck {
  /** CPU time the kernel accounted (any state, idle and steal included) ÷ (wall × cores); ~1 on any machine that runs. */
  accounted?: number;
  /** Steal time ÷ (wall × cores): time the hypervisor says it gave to others. */
  steal?: number;
  /** Busy-loop probes, at the start and the end of the run. */
  probes: SpinProbe[];
}

/** One busy-loop probe: how much of its wall time a loop that never yields actually ran. */
export interface SpinProbe {
  when: 'start' | 'end';
  wallMs: number;
  /** 1 − (sum of gaps ≥ STALL_MS between iterations) ÷ wall. */
  ran: number;
  /** Longest gap between two iterations, ms. */
  longestStallMs: number;
}

/** A gap this long between two iterations of a tight loop is the process not running. */
const STALL_MS = 1;
/** Below these the report says the machine was throttled. */
const MIN_GOT = 0.9;
const MIN_RAN = 0.9;
const MAX_STALL_MS = 100;

/**
 * The share of the cores' wall time the guest actually ran: accounted minus steal. A host
 * that reports steal shows it there; one that does not simply accounts less.
 */
export function cpuGot(share: { accounted?: number; steal?: number }): number | undefined {
  return share.accounted === undefined ? undefined : share.accounted - (share.steal ?? 0);
}

/** True when a run's CPU shares say the host took the CPU away from it. */
export function throttledShare(share: { accounted?: number; steal?: number }): boolean {
  const got = cpuGot(share);
  return got !== undefined && got < MIN_GOT;
}

/** Cumulative CPU ticks of all cores by state (`cpu` line of /proc/stat); undefined off Linux. */
export function readCpuTicks(): { total: number; steal: number } | undefined {
  try {
    return parseCpuTicks(readFileSync('/proc/stat', 'utf8'));
  } catch {
    return undefined;
  }
}

/** Parses the aggregate `cpu` line: user nice system idle iowait irq softirq steal (guest time is inside user). */
export function parseCpuTicks(stat: string): { total: number; steal: number } | undefined {
  const line = stat.split('\n').find((l) => l.startsWith('cpu '));
  const fields = line?.trim().split(/\s+/).slice(1, 9).map(Number);
  if (!fields || fields.length < 8 || fields.some((n) => !Number.isFinite(n))) return undefined;
  return { total: fields.reduce((a, b) => a + b, 0), steal: fields[7]! };
}

/**
 * Accounted and steal shares between two readings taken `wallMs` apart on `cpus` cores.
 * `ticksPerS` is USER_HZ, 100 on every Linux architecture Node runs on.
 */
export function cpuShares(
  before: { total: number; steal: number },
  after: { total: number; steal: number },
  wallMs: number,
  cpus: number,
  ticksPerS = 100,
): { accounted: number; steal: number } {
  const possible = (wallMs / 1000) * ticksPerS * cpus;
  return { accounted: (after.total - before.total) / possible, steal: (after.steal - before.steal) / possible };
}

/** Spins for `ms` on this thread, recording every gap between iterations of `STALL_MS` or more. */
export function spinProbe(when: SpinProbe['when'], ms = 1000): SpinProbe {
  const start = performance.now();
  let last = start;
  let stalled = 0;
  let longest = 0;
  for (;;) {
    const now = performance.now();
    const gap = now - last;
    if (gap >= STALL_MS) {
      stalled += gap;
      longest = Math.max(longest, gap);
    }
    last = now;
    if (now - start >= ms) break;
  }
  const wallMs = last - start;
  return { when, wallMs, ran: 1 - stalled / wallMs, longestStallMs: longest };
}

/** The report's warning when the machine did not give the run its CPU; undefined when it did. */
export function throttledWarning(check: MachineCheck | undefined): string | undefined {
  if (!check) return undefined;
  const reasons: string[] = [];
  if (throttledShare(check))
    reasons.push(
      `the kernel accounted ${pct(check.accounted!)} of the cores' wall time, steal included (steal ${pct(check.steal ?? 0)})`,
    );
  for (const p of check.probes) {
    if (p.ran < MIN_RAN || p.longestStallMs > MAX_STALL_MS)
      reasons.push(
        `a busy loop at the ${p.when} ran ${pct(p.ran)} of ${(p.wallMs / 1000).toFixed(1)} s (longest stall ${p.longestStallMs.toFixed(0)} ms)`,
      );
  }
  if (reasons.length === 0) return undefined;
  return (
    `the machine was throttled during this run: ${reasons.join('; ')}. ` +
    'The virtual machine was descheduled by its host, so throughput, latency and CPU per request measure the host, ' +
    'not Switchyard; these figures are not representative. Run again when the host is quiet.'
  );
}

/** One line on the machine's CPU for the report's header. */
export function describeCheck(check: MachineCheck | undefined): string {
  if (!check) return '';
  const parts: string[] = [];
  if (check.accounted !== undefined)
    parts.push(`CPU accounted over the run ${pct(check.accounted)} of wall × cores, steal ${pct(check.steal ?? 0)}`);
  for (const p of check.probes)
    parts.push(`busy loop at the ${p.when}: ran ${pct(p.ran)}, longest stall ${p.longestStallMs.toFixed(1)} ms`);
  return parts.length > 0 ? `${parts.join('; ')}.` : '';
}

export function pct(x: number): string {
  return `${(x * 100).toFixed(0)}%`;
}
