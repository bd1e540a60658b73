import { Module, type DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { ClientsModule } from '@nestjs/microservices';
import { SwitchyardClientProxy, SwitchyardHttpClient } from '#client';
import { FaqController, SWITCHYARD } from './faq.controller.js';

/** Where the example service finds Switchyard. */
export interface InternalServiceConfig {
  /** Redis of the Switchyard deployment, for the microservices transport. */
  redisUrl: string;
  /** REDIS_PREFIX of the deployment. @defaultValue 'sy' */
  prefix?: string;
  /** The Switchyard API, for the HTTP client (async jobs). */
  apiUrl: string;
  /** Endpoint key, when the API checks keys. @defaultValue none */
  apiKey?: string;
}

@Module({})
export class InternalServiceModule {
  static forRoot(config: InternalServiceConfig): DynamicModule {
    return {
      module: InternalServiceModule,
      imports: [
        ClientsModule.register([
          {
            name: SWITCHYARD,
            customClass: SwitchyardClientProxy,
            options: { url: config.redisUrl, prefix: config.prefix ?? 'sy' },
          },
        ]),
      ],
      controllers: [FaqController],
      providers: [
        {
          provide: SwitchyardHttpClient,
          useValue: new SwitchyardHttpClient({ baseUrl: config.apiUrl, apiKey: config.apiKey, timeoutMs: 10_000 }),
        },
      ],
    };
  }
}

/** Creates the example service (not listening yet); `app.close()` also closes the ClientProxy. */
export async function createInternalService(config: InternalServiceConfig): Promise<NestFastifyApplication> {
  const app = await NestFactory.create<NestFastifyApplication>(
    InternalServiceModule.forRoot(config),
    new FastifyAdapter(),
    {
      logger: ['error', 'warn'],
    },
  );
  app.enableShutdownHooks();
  return app;
}
