import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { ApiEnv, createRedis, ManagementStore, type EndpointRecord } from '#runtime';
import { MANAGEMENT_STORE } from './management-store.provider.js';

/** How often the directory re-reads endpoints even without an event (missed pub/sub). */
const REFRESH_MS = 5000;

/**
 * This instance's copy of the endpoints: routing and key checks read it without a Redis round
 * trip. Reloaded on every management event and every few seconds, so a traffic change reaches
 * all API instances within milliseconds (or REFRESH_MS at worst).
 */
@Injectable()
export class EndpointDirectory implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('Endpoints');
  private endpoints = new Map<string, EndpointRecord>();
  /** Key hash → endpoint name, for "a valid key of another endpoint" (403 rather than 401). */
  private keyOwners = new Map<string, string>();
  private subscriber: Redis | undefined;
  private timer: NodeJS.Timeout | undefined;
  private loading: Promise<void> | undefined;

  constructor(
    @Inject(MANAGEMENT_STORE) private readonly store: ManagementStore | null,
    @Inject(ApiEnv) private readonly env: ApiEnv,
  ) {}

  async onModuleInit(): Promise<void> {
    if (!this.store || !this.env.REDIS_URL) return;
    await this.reload();
    this.subscriber = createRedis(this.env.REDIS_URL, 'subscriber', 'sy-api-mgmt');
    this.subscriber.on('error', () => undefined);
    this.subscriber.on('message', () => void this.reload());
    await this.subscriber.subscribe(this.store.keys.events);
    this.timer = setInterval(() => void this.reload(), REFRESH_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
    this.subscriber?.disconnect();
  }

  get(name: string): EndpointRecord | undefined {
    return this.endpoints.get(name);
  }

  /** The endpoint a key hash belongs to, if any. */
  ownerOf(keyHash: string): string | undefined {
    return this.keyOwners.get(keyHash);
  }

  /** Re-reads every endpoint; concurrent calls share one read. */
  reload(): Promise<void> {
    this.loading ??= this.read().finally(() => (this.loading = undefined));
    return this.loading;
  }

  private async read(): Promise<void> {
    try {
      const all = await this.store!.endpoints();
      this.endpoints = new Map(all.map((e) => [e.name, e]));
      this.keyOwners = new Map(
        all.flatMap((e) => [[e.keys.primary, e.name] as const, [e.keys.secondary, e.name] as const]),
      );
    } catch (err) {
      this.logger.warn(`cannot reload endpoints, keeping the last copy: ${(err as Error).message}`);
    }
  }
}
