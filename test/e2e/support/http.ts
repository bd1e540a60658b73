import assert from 'node:assert/strict';
/** A JSON response as the tests look at it. */
export interface JsonResponse<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

export async function getJson<T = any>(url: string): Promise<JsonResponse<T>> {
  const res = await fetch(url);
  return { status: res.status, body: (await res.json()) as T, headers: res.headers };
}

export async function postJson<T = any>(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<JsonResponse<T>> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T, headers: res.headers };
}

/** An OIP infer body for the `sum` fixture model: one row of a and b. */
export function sumRequest(a: number[], b: number[], id?: string): unknown {
  return {
    ...(id ? { id } : {}),
    inputs: [
      { name: 'a', datatype: 'FP32', shape: [1, 4], data: a },
      { name: 'b', datatype: 'FP32', shape: [1, 4], data: b },
    ],
  };
}

/** Batch size the server reports in its Server-Timing header. */
export function batchSizeOf(headers: Headers): number {
  const match = /batch;desc="(\d+)"/.exec(headers.get('server-timing') ?? '');
  return match ? Number(match[1]) : 0;
}

/**
 * Sends `n` concurrent sum requests (`a` = [i, i, i, i], `b` = [1, 2, 3, 4], id `${tag}${i}`)
 * and asserts that each is answered 200 with its own id and rows; returns the batch sizes
 * the server reported.
 */
export async function scoreSumsConcurrently(apiUrl: string, n: number, tag: string): Promise<number[]> {
  const responses = await Promise.all(
    Array.from({ length: n }, (_, i) =>
      postJson(`${apiUrl}/v2/models/sum/infer`, sumRequest([i, i, i, i], [1, 2, 3, 4], `${tag}${i}`)),
    ),
  );
  responses.forEach((res, i) => {
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.id, `${tag}${i}`);
    assert.deepEqual(res.body.outputs.find((o: { name: string }) => o.name === 'sum').data, [
      i + 1,
      i + 2,
      i + 3,
      i + 4,
    ]);
  });
  return responses.map((r) => batchSizeOf(r.headers));
}
