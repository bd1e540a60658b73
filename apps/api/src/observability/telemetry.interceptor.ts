import { Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { context as otelContext } from '@opentelemetry/api';
import type { FastifyRequest } from 'fastify';
import { Observable, type Subscription } from 'rxjs';
import { observations } from './request-scope.js';

/**
 * With tracing on, runs each route handler inside its request's trace context, so spans made
 * while handling it are children of the request's HTTP span. Without tracing there is no
 * context to carry, and the handler runs as it is.
 */
@Injectable()
export class TelemetryInterceptor implements NestInterceptor {
  intercept(ctx: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (ctx.getType() !== 'http') return next.handle();
    const traced = observations.get(ctx.switchToHttp().getRequest<FastifyRequest>().raw)?.context;
    if (!traced) return next.handle();
    return new Observable((subscriber) => {
      let subscription: Subscription | undefined;
      otelContext.with(traced, () => {
        subscription = next.handle().subscribe(subscriber);
      });
      return () => subscription?.unsubscribe();
    });
  }
}
