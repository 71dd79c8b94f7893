import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { dpHostRewrite } from './host-rewrite';

const ID = 'srv_0190c4f2a7b87cc1a2b3c4d5e6f70812';

function req(host: string, url: string): IncomingMessage {
  return { headers: { host }, url } as IncomingMessage;
}

describe('dpHostRewrite', () => {
  const rewrite = dpHostRewrite('.dp.example.com');

  it("serves a per-server host name's root as that server's /dp/{serverId}", () => {
    assert.equal(rewrite(req(`${ID}.dp.example.com`, '/v1/data/a.b?at=x')), `/dp/${ID}/v1/data/a.b?at=x`);
    assert.equal(
      rewrite(req(`${ID.toUpperCase().replace('SRV_', 'srv_')}.DP.example.com`, '/')),
      `/dp/${ID}`,
    );
  });

  it('leaves every other host alone (the suffix is matched literally)', () => {
    assert.equal(rewrite(req('hearth.example.com', '/v1/servers')), '/v1/servers');
    assert.equal(rewrite(req(`${ID}.dpxexample.com`, '/health')), '/health');
    assert.equal(rewrite(req(`evil.${ID}.dp.example.com`, '/health')), '/health');
  });
});
