import { createHmac, timingSafeEqual } from 'node:crypto';

/** Header that carries a webhook delivery's signature. */
export const WEBHOOK_SIGNATURE_HEADER = 'x-switchyard-signature';

/**
 * `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, keyed with WEBHOOK_SECRET. The
 * timestamp is signed with the body, so a captured delivery cannot be replayed later.
 */
export function signWebhook(secret: string, body: string, unixSeconds = Math.floor(Date.now() / 1000)): string {
  const mac = createHmac('sha256', secret).update(`${unixSeconds}.${body}`, 'utf8').digest('hex');
  return `t=${unixSeconds},v1=${mac}`;
}

/**
 * Checks a delivery: the signature must match the raw body as received and the timestamp be
 * within `toleranceS` of now. Compares in constant time.
 */
export function verifyWebhookSignature(
  secret: string,
  body: string,
  header: string | undefined,
  toleranceS = 300,
  nowS = Math.floor(Date.now() / 1000),
): boolean {
  if (!header) return false;
  const parts = new Map(
    header.split(',').map((p) => {
      const i = p.indexOf('=');
      return [p.slice(0, i).trim(), p.slice(i + 1).trim()] as const;
    }),
  );
  const t = Number(parts.get('t'));
  const given = parts.get('v1') ?? '';
  if (!Number.isInteger(t) || Math.abs(nowS - t) > toleranceS || !/^[0-9a-f]{64}$/.test(given)) return false;
  const expected = createHmac('sha256', secret).update(`${t}.${body}`, 'utf8').digest();
  return timingSafeEqual(expected, Buffer.from(given, 'hex'));
}
