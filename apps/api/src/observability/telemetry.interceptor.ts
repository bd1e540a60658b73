import { Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { context as otelContext } from '@opentelemetry/api';
import type { FastifyRequest } from 'fastify';
import { Observable, type Subscription } from 'rxjs';
import { observations, requestScope } from './request-scope.js';

/**
 * Runs each route handler inside its request's observation (and trace context), so the
 * transport can label the request's metrics from its job and parent the enqueue span.
 */
@Injectable()
export class TelemetryInterceptor implements NestInterceptor {
  intercept(ctx: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (ctx.getType() !== 'http') return next.handle();
    const observation = observations.get(ctx.switchToHttp().getRequest<FastifyRequest>().raw);
    if (!observation) return next.handle();
    return new Observable((subscriber) => {
      let subscription: Subscription | undefined;
      const run = (): void => {
        subscription = next.handle().subscribe(subscriber);
      };
      requestScope.run(observation, () => (observation.context ? otelContext.with(observation.context, run) : run()));
      return () => subscription?.unsubscribe();
    });
  }
}
