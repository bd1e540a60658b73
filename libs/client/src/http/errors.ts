/**
 * An error answer of Switchyard (`{"error": "..."}`), or no answer at all (`status` 0: network
 * failure or client-side timeout). Subclasses name the statuses callers handle differently.
 */
export class SwitchyardError extends Error {
  constructor(
    /** HTTP status; 0 when no answer came. */
    readonly status: number,
    message: string,
    /** Seconds the server asked to wait before retrying (`Retry-After`), when it said. */
    readonly retryAfterS?: number,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** 400: the request is wrong (shape, datatype, callback host not allowed, ...). */
export class BadRequestError extends SwitchyardError {}
/** 401: missing or invalid API key. */
export class UnauthorizedError extends SwitchyardError {}
/** 403: the key may not use this model or route. */
export class ForbiddenError extends SwitchyardError {}
/** 404: unknown model, version or job (or a job whose result has expired). */
export class NotFoundError extends SwitchyardError {}
/** 429: overloaded; retried automatically up to `retries` times. */
export class TooManyRequestsError extends SwitchyardError {}
/** 503: not ready or queue unreachable; retried automatically up to `retries` times. */
export class ServiceUnavailableError extends SwitchyardError {}
/** 504: the request's deadline passed before a worker answered. */
export class GatewayTimeoutError extends SwitchyardError {}
/** No answer within the client's `timeoutMs` (status 0). */
export class ClientTimeoutError extends SwitchyardError {}

const BY_STATUS: Record<number, typeof SwitchyardError> = {
  400: BadRequestError,
  401: UnauthorizedError,
  403: ForbiddenError,
  404: NotFoundError,
  429: TooManyRequestsError,
  503: ServiceUnavailableError,
  504: GatewayTimeoutError,
};

/** The typed error for an HTTP status. */
export function errorForStatus(status: number, message: string, retryAfterS?: number): SwitchyardError {
  const Type = BY_STATUS[status] ?? SwitchyardError;
  return new Type(status, message, retryAfterS);
}
