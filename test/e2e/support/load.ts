/** What one request of a load got: an HTTP status, or status 0 and an error when no answer came. */
export interface Outcome {
  status: number;
  /** Client-side latency, send to full body read. */
  ms: number;
  body?: any;
  headers?: Headers;
  /** Set when no HTTP answer came (status 0): the error code, or 'timeout' (a hang). */
  error?: string;
}

export interface SendOptions {
  headers?: Record<string, string>;
  /** A request not answered by then counts as hung (status 0, error 'timeout'). @defaultValue 30000 */
  timeoutMs?: number;
  method?: string;
}

/** POSTs a JSON body (or a string/Buffer as is) and never throws: failures are outcomes. */
export async function send(url: string, body: unknown, opts: SendOptions = {}): Promise<Outcome> {
  const started = performance.now();
  const payload = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
  try {
    const res = await fetch(url, {
      method: opts.method ?? 'POST',
      headers: { 'content-type': 'application/json', ...opts.headers },
      body: payload as string,
      signal: AbortSignal.timeout(opts.timeoutMs ?? 30_000),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: kept as text, tests assert on it
    }
    return { status: res.status, ms: performance.now() - started, body: parsed, headers: res.headers };
  } catch (err) {
    const e = err as { name?: string; cause?: { code?: string }; code?: string; message?: string };
    const error =
      e.name === 'TimeoutError' ? 'timeout' : (e.cause?.code ?? e.code ?? e.message ?? String(err)).toString();
    return { status: 0, ms: performance.now() - started, error };
  }
}

/** Runs `total` calls of `fn`, at most `concurrency` at once; results in call order. */
export async function runBounded<T>(total: number, concurrency: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const results = new Array<T>(total);
  let next = 0;
  const lanes = Array.from({ length: Math.min(concurrency, total) }, async () => {
    while (next < total) {
      const i = next++;
      results[i] = await fn(i);
    }
  });
  await Promise.all(lanes);
  return results;
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** Counts of each status (0 = no answer). */
export function statusCounts(outcomes: Outcome[]): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const o of outcomes) counts[o.status] = (counts[o.status] ?? 0) + 1;
  return counts;
}

/**
 * Prints the figures of a load as `# ...` lines: sent, succeeded, refused by status, lost
 * (no answer at all), and latencies. Returns the status counts.
 */
export function report(label: string, outcomes: Outcome[]): Record<number, number> {
  const counts = statusCounts(outcomes);
  const refused = Object.entries(counts)
    .filter(([s]) => Number(s) >= 400)
    .map(([s, n]) => `${n}×${s}`)
    .join(', ');
  const lost = outcomes.filter((o) => o.status === 0);
  const ms = outcomes.map((o) => o.ms);
  console.log(
    `# ${label}: sent ${outcomes.length}, succeeded ${counts[200] ?? 0}, refused/failed ${refused || 'none'}, ` +
      `lost ${lost.length}${lost.length ? ` (${[...new Set(lost.map((o) => o.error))].join(', ')})` : ''}`,
  );
  console.log(
    `# ${label}: latency ms p50 ${fmt(percentile(ms, 50))}, p99 ${fmt(percentile(ms, 99))}, max ${fmt(Math.max(0, ...ms))}`,
  );
  return counts;
}

export function fmt(ms: number): string {
  return ms.toFixed(ms < 10 ? 1 : 0);
}
