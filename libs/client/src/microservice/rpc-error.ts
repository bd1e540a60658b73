/**
 * What a `score.<model>` call fails with (the Observable's error): the HTTP status the API
 * would have answered (400 bad payload, 404 unknown model or version, 429 overloaded, 503 not
 * served or Redis unreachable, 504 deadline passed) and its message.
 */
export class SwitchyardRpcError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'SwitchyardRpcError';
  }

  static from(err: unknown): SwitchyardRpcError {
    if (err instanceof SwitchyardRpcError) return err;
    const e = err as { status?: unknown; message?: unknown } | undefined;
    const status = typeof e?.status === 'number' ? e.status : 503;
    return new SwitchyardRpcError(status, typeof e?.message === 'string' ? e.message : String(err));
  }
}
