import { createHmac, timingSafeEqual } from 'node:crypto';

/** A receiver rejects a signature whose timestamp is older (or newer) than this: a replay of a captured call. */
export const WEBHOOK_TOLERANCE_SECONDS = 300;

/**
 * The `Hearth-Signature` header of a delivery: `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`.
 * The key is the secret string's UTF-8 bytes, as the owner was shown it.
 */
export function signWebhook(secret: string, rawBody: string | Buffer, timestamp: number): string {
  const t = Math.floor(timestamp);
  const mac = createHmac('sha256', secret).update(`${t}.`).update(rawBody).digest('hex');
  return `t=${t},v1=${mac}`;
}

/**
 * What a receiver does: true when the header carries a `v1` that is HMAC-SHA256 of `"<t>.<raw body>"` under
 * the secret, and `t` is within `toleranceSeconds` of now. Compared in constant time.
 */
export function verifyWebhookSignature(
  secret: string,
  header: string,
  rawBody: string | Buffer,
  options: { toleranceSeconds?: number; now?: number } = {},
): boolean {
  const parts = header.split(',').map((p) => p.trim().split('='));
  const t = Number(parts.find(([k]) => k === 't')?.[1]);
  if (!Number.isInteger(t)) return false;
  const now = options.now ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - t) > (options.toleranceSeconds ?? WEBHOOK_TOLERANCE_SECONDS)) return false;
  const expected = Buffer.from(signWebhook(secret, rawBody, t).split('v1=')[1], 'hex');
  return parts
    .filter(([k, v]) => k === 'v1' && typeof v === 'string' && /^[0-9a-f]{64}$/.test(v))
    .some(([, v]) => timingSafeEqual(Buffer.from(v, 'hex'), expected));
}
