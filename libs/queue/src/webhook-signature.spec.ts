import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { signWebhook, verifyWebhookSignature, WEBHOOK_TOLERANCE_SECONDS } from './webhook-signature';

const SECRET = 'whsec_test-secret';
const BODY = '{"id":"evt_1","type":"api_key.created","data":{"apiKeyId":"key_1"}}';

describe('webhook signatures', () => {
  it('signs t=<seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>, as a receiver recomputes it', () => {
    const header = signWebhook(SECRET, BODY, 1_700_000_000.9);
    const expected = createHmac('sha256', SECRET).update(`1700000000.${BODY}`).digest('hex');
    assert.equal(header, `t=1700000000,v1=${expected}`);
  });

  it('verifies a fresh signature over the same raw body', () => {
    const now = 1_700_000_000;
    const header = signWebhook(SECRET, BODY, now);
    assert.equal(verifyWebhookSignature(SECRET, header, BODY, { now }), true);
    assert.equal(verifyWebhookSignature(SECRET, header, Buffer.from(BODY), { now: now + 10 }), true);
  });

  it('rejects another secret, a changed body, a stale or future timestamp, and malformed headers', () => {
    const now = 1_700_000_000;
    const header = signWebhook(SECRET, BODY, now);
    assert.equal(verifyWebhookSignature('whsec_other', header, BODY, { now }), false);
    assert.equal(verifyWebhookSignature(SECRET, header, BODY.replace('key_1', 'key_2'), { now }), false);
    assert.equal(
      verifyWebhookSignature(SECRET, header, BODY, { now: now + WEBHOOK_TOLERANCE_SECONDS + 1 }),
      false,
    );
    assert.equal(
      verifyWebhookSignature(SECRET, header, BODY, { now: now - WEBHOOK_TOLERANCE_SECONDS - 1 }),
      false,
    );
    const replayed = header.replace(`t=${now}`, `t=${now + 60}`);
    assert.equal(
      verifyWebhookSignature(SECRET, replayed, BODY, { now: now + 60 }),
      false,
      'a new t needs a new MAC',
    );
    for (const bad of ['', 'v1=abc', `t=${now}`, `t=${now},v1=zz`, `t=x,v1=${'0'.repeat(64)}`])
      assert.equal(verifyWebhookSignature(SECRET, bad, BODY, { now }), false, bad);
  });
});
