/**
 * An error that knows its HTTP status. Thrown anywhere on the request path; the API's
 * exception filter renders it as `{"error": message}` with that status.
 */
export class ScoringError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** Seconds a client should wait before retrying (sent as `Retry-After`). */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'ScoringError';
  }

  static badRequest(message: string): ScoringError {
    return new ScoringError(400, message);
  }

  static notFound(message: string): ScoringError {
    return new ScoringError(404, message);
  }

  static unavailable(message: string): ScoringError {
    return new ScoringError(503, message);
  }

  /** Overload: refused before enqueueing, with a hint when to retry. */
  static tooMany(message: string, retryAfterSeconds = 1): ScoringError {
    return new ScoringError(429, message, retryAfterSeconds);
  }

  static timeout(message: string): ScoringError {
    return new ScoringError(504, message);
  }
}
