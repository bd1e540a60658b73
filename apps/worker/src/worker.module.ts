import { Module, type DynamicModule } from '@nestjs/common';
import { WorkerEnv } from '#runtime';
import { HealthController } from './health.controller.js';
import { ModelWorkerService } from './model-worker.service.js';
import { WorkerObservabilityModule } from './observability/worker-observability.module.js';

@Module({})
export class WorkerModule {
  static forRoot(env: WorkerEnv): DynamicModule {
    return {
      module: WorkerModule,
      imports: [WorkerObservabilityModule.forRoot(env)],
      controllers: [HealthController],
      providers: [{ provide: WorkerEnv, useValue: env }, ModelWorkerService],
    };
  }
}
