import { getJson } from './http.js';
import { sleep } from './processes.js';

const FINAL = new Set(['succeeded', 'failed', 'expired']);

/** Polls `GET /v1/jobs/{id}` until it is finished; returns every status seen, in order. */
export async function pollJob(apiUrl: string, id: string, timeoutMs = 20_000): Promise<{ body: any; seen: string[] }> {
  const until = Date.now() + timeoutMs;
  const seen: string[] = [];
  for (;;) {
    const res = await getJson(`${apiUrl}/v1/jobs/${id}`);
    if (res.status !== 200) throw new Error(`GET /v1/jobs/${id}: ${res.status} ${JSON.stringify(res.body)}`);
    if (seen.at(-1) !== res.body.status) seen.push(res.body.status);
    if (FINAL.has(res.body.status)) return { body: res.body, seen };
    if (Date.now() > until) throw new Error(`job ${id} still ${res.body.status} after ${timeoutMs} ms`);
    await sleep(50);
  }
}
