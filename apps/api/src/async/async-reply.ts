import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/**
 * Whether the caller asked for an async answer: `Prefer: respond-async` (RFC 7240) or
 * `?async=true`.
 */
export function wantsAsync(req: FastifyRequest): boolean {
  const prefer = req.headers.prefer;
  const tokens = (Array.isArray(prefer) ? prefer.join(',') : (prefer ?? '')).split(/[,;]/);
  if (tokens.some((t) => t.trim().toLowerCase() === 'respond-async')) return true;
  const flag = (req.query as Record<string, unknown> | undefined)?.async;
  return flag === 'true' || flag === '1';
}

/** Requests answered `202 Accepted` (the routes' own status is 200). */
const accepted = new WeakSet<FastifyRequest>();

/** Marks the reply `202 Accepted` with `Location: <location>`. */
export function acceptAsync(res: FastifyReply, location: string): void {
  accepted.add(res.request);
  void res.header('location', location).header('preference-applied', 'respond-async');
}

/**
 * Nest sets a route's `@HttpCode` as it sends the handler's value, after the handler ran,
 * so the scoring routes cannot answer 202 themselves. This hook sets it for the requests
 * marked by `acceptAsync`, just before the headers are written.
 */
@Injectable()
export class AcceptedStatusHook implements OnModuleInit {
  constructor(@Inject(HttpAdapterHost) private readonly host: HttpAdapterHost) {}

  onModuleInit(): void {
    const fastify = this.host.httpAdapter?.getInstance<FastifyInstance>();
    fastify?.addHook('onSend', async (req, reply, payload) => {
      if (accepted.has(req) && reply.statusCode < 300) void reply.code(202);
      return payload;
    });
  }
}
