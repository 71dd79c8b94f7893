import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkWebhookUrl, guardedLookup, isBlockedAddress } from './webhook-target';

const production = { allowHttp: false, allowLoopback: false };
const development = { allowHttp: true, allowLoopback: false };
const tests = { allowHttp: true, allowLoopback: true };

describe('webhook targets', () => {
  it('blocks private, loopback, link-local, unique-local and mapped forms; lets public addresses through', () => {
    for (const ip of [
      '10.1.2.3',
      '172.16.0.1',
      '192.168.1.1',
      '127.0.0.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '::1',
      '::',
      'fd00::1',
      'fe80::1',
      '::ffff:127.0.0.1',
      '::ffff:a9fe:a9fe',
      '[::1]',
    ])
      assert.equal(isBlockedAddress(ip, production), true, ip);
    for (const ip of ['93.184.216.34', '8.8.8.8', '2606:4700::1111', '::ffff:8.8.8.8'])
      assert.equal(isBlockedAddress(ip, production), false, ip);
    assert.equal(isBlockedAddress('127.0.0.1', tests), false, 'loopback with the override');
    assert.equal(isBlockedAddress('::1', tests), false);
    assert.equal(isBlockedAddress('10.0.0.1', tests), true, 'the override allows loopback only');
    assert.equal(isBlockedAddress('not-an-ip', tests), true);
  });

  it('requires https in production, refuses credentials, fragments and private hosts', async () => {
    assert.equal((await checkWebhookUrl('http://93.184.216.34/hook', production))?.code, 'https_required');
    assert.equal(await checkWebhookUrl('https://93.184.216.34/hook', production), null);
    assert.equal(await checkWebhookUrl('http://93.184.216.34/hook', development), null);
    assert.equal((await checkWebhookUrl('ftp://93.184.216.34/', development))?.code, 'https_required');
    assert.equal((await checkWebhookUrl('not a url', development))?.code, 'invalid_url');
    assert.equal((await checkWebhookUrl('https://u:p@93.184.216.34/', production))?.code, 'invalid_url');
    assert.equal((await checkWebhookUrl('https://93.184.216.34/#x', production))?.code, 'invalid_url');
    assert.equal((await checkWebhookUrl('https://10.0.0.5/hook', production))?.code, 'private_address');
    assert.equal((await checkWebhookUrl('https://[fd12::1]/hook', production))?.code, 'private_address');
    assert.equal((await checkWebhookUrl('https://localhost/hook', production))?.code, 'private_address');
    assert.equal(await checkWebhookUrl('http://localhost:9/hook', tests), null);
    assert.equal(
      (await checkWebhookUrl('https://does-not-exist.invalid/hook', production))?.code,
      'unresolvable_host',
    );
  });

  it('a guarded lookup refuses a name that resolves to a blocked address at connect time', async () => {
    const lookup = guardedLookup(production);
    const err = await new Promise<NodeJS.ErrnoException | null>((resolve) =>
      lookup('localhost', {}, (e) => resolve(e)),
    );
    assert.equal(err?.code, 'EADDRBLOCKED');
    const allowed = await new Promise<string>((resolve, reject) =>
      guardedLookup(tests)('localhost', {}, (e, address) => (e ? reject(e) : resolve(address as string))),
    );
    assert.ok(['127.0.0.1', '::1'].includes(allowed), allowed);
  });
});
