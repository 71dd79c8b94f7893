/**
 * Checking a Hearth webhook delivery, in Node 20+ and browsers (WebCrypto): `Hearth-Signature` is
 * `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`.
 */

/** Deliveries older (or newer) than this are refused: a replay of a captured delivery. */
export const WEBHOOK_TOLERANCE_SECONDS = 300;

const encoder = new TextEncoder();

function hexToBytes(hex: string): Uint8Array<ArrayBuffer> | null {
  if (!/^[0-9a-f]{64}$/i.test(hex)) return null;
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/**
 * True when `header` (the `Hearth-Signature` value) signs `rawBody` — the bytes exactly as received, before any
 * JSON parsing — under the webhook's secret, with a timestamp within `toleranceSeconds` of now.
 */
export async function verifyWebhookSignature(
  secret: string,
  header: string,
  rawBody: string | Uint8Array,
  options: { toleranceSeconds?: number; now?: number } = {},
): Promise<boolean> {
  const fields = header.split(',').map((part) => part.trim().split('='));
  const t = Number(fields.find(([k]) => k === 't')?.[1]);
  if (!Number.isInteger(t)) return false;
  const now = options.now ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - t) > (options.toleranceSeconds ?? WEBHOOK_TOLERANCE_SECONDS)) return false;
  const body = typeof rawBody === 'string' ? encoder.encode(rawBody) : rawBody;
  const prefix = encoder.encode(`${t}.`);
  const signed = new Uint8Array(prefix.length + body.length);
  signed.set(prefix, 0);
  signed.set(body, prefix.length);
  const key = await globalThis.crypto.subtle.importKey(
    'raw',
    encoder.encode(secret),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['verify'],
  );
  for (const [k, v] of fields) {
    if (k !== 'v1' || v === undefined) continue;
    const mac = hexToBytes(v);
    // WebCrypto's verify compares in constant time.
    if (mac && (await globalThis.crypto.subtle.verify('HMAC', key, mac, signed))) return true;
  }
  return false;
}
