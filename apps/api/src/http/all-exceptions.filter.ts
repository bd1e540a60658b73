import { Catch, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { errorBody } from './error-body.js';

/** Renders every exception as `{"error": "..."}`; unexpected ones are logged, never leaked. */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger('HTTP');

  catch(exception: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const { status, body, headers } = errorBody(exception);
    if (status >= 500 && status !== 503 && status !== 504) {
      const what = (exception as Error)?.stack ?? String(exception);
      this.logger.error(`request ${reply.request.id} (${reply.request.method} ${reply.request.url}): ${what}`);
    }
    void reply.status(status).headers(headers).send(body);
  }
}
