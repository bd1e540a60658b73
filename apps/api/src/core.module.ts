import { Global, Module, type DynamicModule } from '@nestjs/common';
import { ApiEnv, SCORING_TRANSPORT, type ScoringTransport } from '#runtime';
import { AdminGuard } from './auth/admin.guard.js';
import { LifecycleService } from './health/lifecycle.service.js';
import { ScoringService } from './inference/scoring.service.js';
import { EndpointDirectory } from './management/endpoint-directory.service.js';
import { MANAGEMENT_STORE, managementStoreFor } from './management/management-store.provider.js';

/** What every feature module needs: config, transport, scoring, endpoints directory, guards. */
@Global()
@Module({})
export class CoreModule {
  static forRoot(env: ApiEnv, transport: ScoringTransport): DynamicModule {
    const providers = [
      { provide: ApiEnv, useValue: env },
      { provide: SCORING_TRANSPORT, useValue: transport },
      { provide: MANAGEMENT_STORE, useValue: managementStoreFor(env, transport) },
      ScoringService,
      LifecycleService,
      EndpointDirectory,
      AdminGuard,
    ];
    return { module: CoreModule, providers, exports: providers };
  }
}
