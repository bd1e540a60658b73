import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { ScoringError } from '#contracts';
import { ApiEnv } from '#runtime';
import { authEnabled } from '../auth/auth-settings.js';
import { bearerToken, hashKey, keyMatchesHash } from '../auth/secret-compare.js';
import { EndpointDirectory } from '../management/endpoint-directory.service.js';

/**
 * Scoring through an endpoint: 404 for an unknown endpoint, then `Authorization: Bearer <key>`
 * with one of its two keys. 401 when the key is missing or unknown, 403 when it is a valid key
 * of another endpoint. Keys are compared as sha256 hashes in constant time.
 */
@Injectable()
export class EndpointKeyGuard implements CanActivate {
  private readonly enabled: boolean;

  constructor(
    @Inject(EndpointDirectory) private readonly directory: EndpointDirectory,
    @Inject(ApiEnv) env: ApiEnv,
  ) {
    this.enabled = authEnabled(env);
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<FastifyRequest<{ Params: { endpoint: string } }>>();
    const name = req.params.endpoint;
    let endpoint = this.directory.get(name);
    if (!endpoint) {
      await this.directory.reload(); // created a moment ago on another instance?
      endpoint = this.directory.get(name);
    }
    if (!endpoint) throw ScoringError.notFound(`endpoint '${name}' not found`);
    if (!this.enabled) return true;
    const token = bearerToken(req.headers.authorization);
    if (!token) throw new ScoringError(401, 'missing credentials: send Authorization: Bearer <endpoint key>');
    if (keyMatchesHash(token, endpoint.keys.primary) || keyMatchesHash(token, endpoint.keys.secondary)) return true;
    const owner = this.directory.ownerOf(hashKey(token));
    if (owner) throw new ScoringError(403, `this key belongs to another endpoint, not to '${name}'`);
    throw new ScoringError(401, `invalid key for endpoint '${name}'`);
  }
}
