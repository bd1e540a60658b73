import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import type { ApiEnv, ScoringTransport } from '#runtime';
import { CoreModule } from './core.module.js';
import { ManagementModule } from './management/management.module.js';
import { AsyncModule } from './async/async.module.js';
import { DemoController } from './demo/demo.controller.js';
import { ModelSchemaController } from './docs/model-schema.controller.js';
import { AllExceptionsFilter } from './http/all-exceptions.filter.js';
import { OipController } from './inference/oip.controller.js';
import { PredictController } from './inference/predict.controller.js';

@Module({})
export class AppModule {
  /** The transport is built before the module (embedded or Redis), so DI never waits on I/O. */
  static forRoot(env: ApiEnv, transport: ScoringTransport): DynamicModule {
    return {
      module: AppModule,
      imports: [CoreModule.forRoot(env, transport), AsyncModule.forRoot(env, transport), ManagementModule],
      controllers: [OipController, PredictController, DemoController, ModelSchemaController],
      providers: [{ provide: APP_FILTER, useClass: AllExceptionsFilter }],
    };
  }
}
