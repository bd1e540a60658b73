import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { signWebhook, type JobStatusBody } from '#contracts';
import type { WebhookAllowList } from './allow-list.js';

/** Why a delivery attempt failed, and whether another attempt may succeed. */
export class DeliveryError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = 'DeliveryError';
  }
}

export interface WebhookSenderOptions {
  secret: string;
  timeoutMs: number;
}

/**
 * Sends one signed webhook delivery: re-checks the target against the allow-list (so an
 * address that changed since the job was accepted is refused), connects only to the checked
 * address, follows no redirect, and succeeds on a 2xx answer only.
 */
export class WebhookSender {
  constructor(
    private readonly allowList: WebhookAllowList,
    private readonly options: WebhookSenderOptions,
  ) {}

  async deliver(callbackUrl: string, body: JobStatusBody, attempt: number): Promise<void> {
    const target = await this.allowList.check(callbackUrl).catch((err: Error) => {
      throw new DeliveryError(err.message, false);
    });
    const payload = JSON.stringify(body);
    const pinned: LookupFunction = (_host, opts, cb) => {
      const o = opts as { all?: boolean };
      if (o.all) (cb as (e: null, a: { address: string; family: number }[]) => void)(null, [target]);
      else cb(null, target.address, target.family);
    };
    const send = target.url.protocol === 'https:' ? httpsRequest : httpRequest;
    const status = await new Promise<number>((resolve, reject) => {
      const req = send(
        target.url,
        {
          method: 'POST',
          lookup: pinned,
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(payload),
            'user-agent': 'switchyard-webhooks/1',
            'x-switchyard-event': `job.${body.status}`,
            'x-switchyard-delivery': `${body.id}/${attempt}`,
            'x-switchyard-signature': signWebhook(this.options.secret, payload),
          },
        },
        (res: IncomingMessage) => {
          res.resume(); // the answer's body is not used
          res.once('end', () => resolve(res.statusCode ?? 0));
          res.once('error', reject);
        },
      );
      const timer = setTimeout(
        () => req.destroy(new Error(`no answer within ${this.options.timeoutMs} ms`)),
        this.options.timeoutMs,
      );
      req.once('close', () => clearTimeout(timer));
      req.once('error', reject);
      req.end(payload);
    }).catch((err: Error) => {
      throw new DeliveryError(`${target.url.host}: ${err.message}`, true);
    });
    if (status >= 200 && status < 300) return;
    if (status >= 300 && status < 400)
      throw new DeliveryError(`${target.url.host} answered ${status}: redirects are not followed`, false);
    const retryable = status >= 500 || status === 408 || status === 429;
    throw new DeliveryError(`${target.url.host} answered ${status}`, retryable);
  }
}
