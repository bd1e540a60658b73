import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';

/** Where the API is and the admin key to present. */
export interface Connection {
  url: string;
  adminKey?: string;
}

/** An error the API answered with (its `error` field), or a connection failure. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

/** Calls the management API; returns the parsed JSON body (undefined for 204). */
export async function call(conn: Connection, method: string, path: string, body?: unknown): Promise<unknown> {
  const headers: Record<string, string> = {};
  if (conn.adminKey) headers.authorization = `Bearer ${conn.adminKey}`;
  let payload: string | FormData | undefined;
  if (body instanceof FormData) payload = body;
  else if (body !== undefined) {
    headers['content-type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  const res = await fetch(new URL(path, conn.url), { method, headers, body: payload }).catch((err: Error) => {
    throw new ApiError(`cannot reach ${conn.url}: ${(err.cause as Error | undefined)?.message ?? err.message}`);
  });
  if (res.status === 204) return undefined;
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (!res.ok) {
    const error = (json as { error?: string } | undefined)?.error ?? (text || res.statusText);
    throw new ApiError(`${res.status}: ${error}`, res.status);
  }
  return json;
}

/** A multipart upload body: the form fields first, then the file parts (the API streams the file). */
export async function uploadForm(
  file: string,
  fields: { version?: string; description?: string; config?: string; labels?: string },
): Promise<FormData> {
  const form = new FormData();
  if (fields.version) form.append('version', fields.version);
  if (fields.description) form.append('description', fields.description);
  if (fields.config) form.append('config', await readFile(fields.config, 'utf8'));
  if (fields.labels) form.append('labels', new Blob([await readFile(fields.labels)]), basename(fields.labels));
  form.append('file', new Blob([await readFile(file)]), basename(file));
  return form;
}
