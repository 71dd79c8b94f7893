import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { verifyWebhookSignature, WEBHOOK_TOLERANCE_SECONDS } from './webhooks';

const SECRET = 'whsec_sdk-test';
const BODY = '{"id":"evt_1","type":"grant.added","data":{"grantId":"3"}}';
const NOW = 1_764_000_000;

function header(secret: string, body: string, t: number): string {
  return `t=${t},v1=${createHmac('sha256', secret).update(`${t}.${body}`).digest('hex')}`;
}

describe('verifyWebhookSignature (WebCrypto)', () => {
  it('accepts a signature over the raw body, as a string or bytes, within the tolerance', async () => {
    const h = header(SECRET, BODY, NOW);
    assert.equal(await verifyWebhookSignature(SECRET, h, BODY, { now: NOW }), true);
    assert.equal(
      await verifyWebhookSignature(SECRET, h, new TextEncoder().encode(BODY), { now: NOW + 299 }),
      true,
    );
    assert.equal(await verifyWebhookSignature(SECRET, `v1=${'0'.repeat(64)},${h}`, BODY, { now: NOW }), true);
  });

  it('refuses another secret, an altered body, an old or future timestamp and malformed headers', async () => {
    const h = header(SECRET, BODY, NOW);
    assert.equal(await verifyWebhookSignature('whsec_other', h, BODY, { now: NOW }), false);
    assert.equal(await verifyWebhookSignature(SECRET, h, BODY.replace('3', '4'), { now: NOW }), false);
    const late = NOW + WEBHOOK_TOLERANCE_SECONDS + 1;
    assert.equal(await verifyWebhookSignature(SECRET, h, BODY, { now: late }), false);
    assert.equal(
      await verifyWebhookSignature(SECRET, h, BODY, { now: NOW - WEBHOOK_TOLERANCE_SECONDS - 1 }),
      false,
    );
    for (const bad of ['', `t=${NOW}`, `t=${NOW},v1=xyz`, `t=soon,${h.split(',')[1]}`])
      assert.equal(await verifyWebhookSignature(SECRET, bad, BODY, { now: NOW }), false, bad);
  });
});
