import { Inject, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { ScoringError } from '#contracts';
import { deploymentQueue, type CatalogEntry, type EndpointRecord } from '#runtime';
import { ScoringService } from '../inference/scoring.service.js';
import { EndpointDirectory } from '../management/endpoint-directory.service.js';
import { pickDeployment } from '../management/traffic.js';

/** Where one endpoint request goes. */
export interface Route {
  endpoint: string;
  deployment: string;
  queue: string;
  entry: CatalogEntry;
  /** A deployment to copy this request to, answer discarded. */
  mirror?: { deployment: string; queue: string; entry: CatalogEntry };
}

/**
 * Picks a deployment for an endpoint request: the `x-deployment` header pins one (and is never
 * mirrored); otherwise the traffic weights decide, and the mirror share is copied on the side.
 */
@Injectable()
export class EndpointRouter {
  constructor(
    @Inject(EndpointDirectory) private readonly directory: EndpointDirectory,
    @Inject(ScoringService) private readonly scoring: ScoringService,
  ) {}

  async route(name: string, req: FastifyRequest, random: () => number = Math.random): Promise<Route> {
    const endpoint = this.directory.get(name);
    if (!endpoint) throw ScoringError.notFound(`endpoint '${name}' not found`);
    const pinned = header(req, 'x-deployment');
    if (pinned !== undefined && !endpoint.deployments[pinned]) {
      throw ScoringError.notFound(`endpoint '${name}' has no deployment '${pinned}'`);
    }
    const deployment = pinned ?? pickDeployment(endpoint.traffic, random() * 100);
    if (!deployment) throw ScoringError.unavailable(`endpoint '${name}' takes no traffic: set its traffic weights`);
    const route: Route = { endpoint: name, deployment, ...(await this.target(endpoint, deployment)) };
    const mirror = endpoint.mirror;
    if (pinned === undefined && mirror && mirror.deployment !== deployment && random() * 100 < mirror.percent) {
      const target = await this.target(endpoint, mirror.deployment).catch(() => undefined);
      if (target) route.mirror = { deployment: mirror.deployment, ...target };
    }
    return route;
  }

  private async target(endpoint: EndpointRecord, deployment: string): Promise<{ queue: string; entry: CatalogEntry }> {
    const queue = deploymentQueue(endpoint.name, deployment);
    return { queue, entry: await this.scoring.deployment(queue, `${endpoint.name}/${deployment}`) };
  }
}

function header(req: FastifyRequest, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
