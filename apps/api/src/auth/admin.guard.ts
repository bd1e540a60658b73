import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { ScoringError } from '#contracts';
import { ApiEnv } from '#runtime';
import { EndpointDirectory } from '../management/endpoint-directory.service.js';
import { authEnabled } from './auth-settings.js';
import { bearerToken, hashKey, keyMatchesHash } from './secret-compare.js';

/**
 * Guards management routes, the status page and the queue board: `Authorization: Bearer
 * <ADMIN_API_KEY>`. 401 when the key is missing or wrong, 403 for an endpoint's key. Open when
 * AUTH is off.
 */
@Injectable()
export class AdminGuard implements CanActivate {
  private readonly adminHash: string | undefined;
  private readonly enabled: boolean;

  constructor(
    @Inject(ApiEnv) env: ApiEnv,
    @Inject(EndpointDirectory) private readonly directory: EndpointDirectory,
  ) {
    this.enabled = authEnabled(env);
    this.adminHash = env.ADMIN_API_KEY ? hashKey(env.ADMIN_API_KEY) : undefined;
  }

  canActivate(context: ExecutionContext): boolean {
    if (!this.enabled) return true;
    const req = context.switchToHttp().getRequest<FastifyRequest>();
    const token = bearerToken(req.headers.authorization);
    if (!token) throw new ScoringError(401, 'missing credentials: send Authorization: Bearer <admin key>');
    if (this.directory.ownerOf(hashKey(token))) {
      throw new ScoringError(403, 'endpoint keys cannot use this route: it needs the admin key');
    }
    if (!this.adminHash || !keyMatchesHash(token, this.adminHash)) {
      throw new ScoringError(401, 'invalid credentials: this route needs the admin key');
    }
    return true;
  }
}
