import { Module } from '@nestjs/common';
import { EndpointKeyGuard } from '../endpoints/endpoint-key.guard.js';
import { EndpointRouter } from '../endpoints/endpoint-router.service.js';
import { EndpointScoringController } from '../endpoints/endpoint-scoring.controller.js';
import { EndpointsAdminController } from './endpoints-admin.controller.js';
import { EndpointsService } from './endpoints.service.js';
import { EndpointsFileLoader } from './endpoints-file.loader.js';
import { ModelsAdminController } from './models-admin.controller.js';
import { RegistryService } from './registry.service.js';

/** Model registry, endpoints, deployments and scoring by endpoint (needs Redis). */
@Module({
  controllers: [ModelsAdminController, EndpointsAdminController, EndpointScoringController],
  providers: [RegistryService, EndpointsService, EndpointRouter, EndpointKeyGuard, EndpointsFileLoader],
  exports: [RegistryService, EndpointsService],
})
export class ManagementModule {}
