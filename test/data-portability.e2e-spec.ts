import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { generatePrivateKey, privateKeyToAccount, type PrivateKeyAccount } from 'viem/accounts';
import { recoverTypedDataAddress, type Hex } from 'viem';
import { type RunningGateway, startGateway } from './support/apps';
import { DpRegistries, type FakeDpGateway, startFakeDpGateway, web3Signed } from './support/dp-client';
import { newTenant, ownerClient, type Tenant } from './support/flow';
import { bearer } from './support/siwe';

const PROFILE_SCHEMA = {
  type: 'object',
  required: ['username'],
  properties: { username: { type: 'string', minLength: 1 }, followers: { type: 'integer', minimum: 0 } },
};

interface DpErrorBody {
  error: { code: number; errorCode: string; message: string; details: Record<string, unknown> };
}

async function dpError(res: Response): Promise<DpErrorBody['error'] & { status: number }> {
  const body = (await res.json()) as DpErrorBody;
  assert.ok(body.error, `expected the protocol's error shape, got ${JSON.stringify(body)}`);
  return { ...body.error, status: res.status };
}

describe('Data Portability Protocol: a builder reads a granted, readable scope (dev chain)', () => {
  let gw: RunningGateway;
  let fakeGateway: FakeDpGateway;
  let chain: DpRegistries;
  let alice: Tenant;
  let bob: Tenant;
  let builder: PrivateKeyAccount;
  let granteeId: bigint;
  let grantId: string;
  let base: string;
  let aud: string;

  before(async () => {
    fakeGateway = await startFakeDpGateway({
      'instagram.profile': PROFILE_SCHEMA,
      'instagram.likes': { type: 'object' },
    });
    gw = await startGateway({ DP_GATEWAY_URL: fakeGateway.url, DP_REGISTRY_CACHE_MS: '0' });
    aud = gw.config.siweOrigins[0];
    chain = new DpRegistries(gw.config);
    alice = await newTenant(gw.url);
    bob = await newTenant(gw.url);
    base = `/dp/${alice.serverId}`;
    builder = privateKeyToAccount(generatePrivateKey());
    granteeId = await chain.registerBuilder(builder.address);
    grantId = await chain.grant(alice.owner, granteeId, builder.address, ['instagram.profile']);
  });
  after(async () => {
    await gw?.close();
    await fakeGateway?.close();
  });

  /**
   * A builder request signed for exactly what it sends (unless told otherwise). Two requests signed in the same
   * second for the same target would be the same payload, accepted once: each carries a `nonce` field of its own
   * (any extra field is signed like the others).
   */
  async function builderGet(
    path: string,
    opts: { grantId?: string; sign?: Partial<Parameters<typeof web3Signed>[1]> } = {},
  ) {
    const authorization = await web3Signed(builder, {
      aud,
      method: 'GET',
      uri: path,
      grantId: opts.grantId,
      ...opts.sign,
      override: { nonce: randomUUID(), ...opts.sign?.override },
    });
    return { res: await fetch(`${gw.url}${path}`, { headers: { authorization } }), authorization };
  }

  async function ingest(t: Tenant, scope: string, data: unknown): Promise<Response> {
    return fetch(`${gw.url}/dp/${t.serverId}/v1/data/${scope}`, {
      method: 'POST',
      headers: { ...bearer(t.token), 'content-type': 'application/json' },
      body: JSON.stringify(data),
    });
  }

  /** Through the SDK, as the console does. */
  async function setReadable(t: Tenant, scope: string, readable: boolean): Promise<void> {
    const set = await ownerClient(gw.url, t.token).setScopeReadable(t.serverId, scope, readable);
    assert.deepEqual([set.scope, set.readable], [scope, readable]);
  }

  it('the owner ingests a scope (session), stored as an encrypted file with the data file envelope', async () => {
    const res = await ingest(alice, 'instagram.profile', { username: 'alice', followers: 3 });
    assert.equal(res.status, 201);
    const body = (await res.json()) as { scope: string; collectedAt: string; status: string };
    assert.equal(body.scope, 'instagram.profile');
    assert.equal(body.status, 'stored');
    assert.ok(!Number.isNaN(Date.parse(body.collectedAt)));
    // Each version is a Hearth file.
    const files = (await (
      await fetch(`${gw.url}/v1/servers/${alice.serverId}/files`, { headers: bearer(alice.token) })
    ).json()) as {
      items: Array<{ name: string; contentType: string; encryption: string }>;
    };
    assert.ok(files.items.some((f) => f.name.startsWith('instagram.profile/') && f.encryption === 'server'));
  });

  it('the owner ingests by Web3Signed with its wallet; a body that does not match bodyHash is refused', async () => {
    const path = `${base}/v1/data/instagram.profile`;
    const body = JSON.stringify({ username: 'alice', followers: 4 });
    const signed = await web3Signed(alice.owner, { aud, method: 'POST', uri: path, body });
    const ok = await fetch(`${gw.url}${path}`, {
      method: 'POST',
      headers: { authorization: signed, 'content-type': 'application/json' },
      body,
    });
    assert.equal(ok.status, 201);
    const other = await web3Signed(alice.owner, {
      aud,
      method: 'POST',
      uri: path,
      body: '{"username":"mallory"}',
    });
    const bad = await fetch(`${gw.url}${path}`, {
      method: 'POST',
      headers: { authorization: other, 'content-type': 'application/json' },
      body,
    });
    const err = await dpError(bad);
    assert.deepEqual([err.status, err.code, err.errorCode], [401, 401, 'dp_body_hash_mismatch']);
  });

  it('refuses a document its schema rejects, and a scope with no schema (the gateway says which)', async () => {
    const invalid = await dpError(await ingest(alice, 'instagram.profile', { followers: -1 }));
    assert.deepEqual([invalid.status, invalid.errorCode], [400, 'dp_schema_mismatch']);
    assert.ok(Array.isArray(invalid.details.errors));
    const unknown = await dpError(await ingest(alice, 'tiktok.videos', { a: 1 }));
    assert.deepEqual([unknown.status, unknown.errorCode], [400, 'dp_schema_not_found']);
  });

  it('a granted builder is refused a scope its owner has not made readable, and told which operations to run', async () => {
    const { res } = await builderGet(`${base}/v1/data/instagram.profile`, { grantId });
    const err = await dpError(res);
    assert.deepEqual([err.status, err.code, err.errorCode], [403, 403, 'dp_scope_not_readable']);
    assert.ok(
      Array.isArray(err.details.operations) && (err.details.operations as string[]).includes('stats'),
    );
    assert.match(String(err.details.receiptHash), /^0x[0-9a-f]{64}$/);
  });

  it('reads the latest version once the owner marks the scope readable, with a receipt in the access log', async () => {
    await setReadable(alice, 'instagram.profile', true);
    const { res } = await builderGet(`${base}/v1/data/instagram.profile`, { grantId });
    assert.equal(res.status, 200);
    const doc = (await res.json()) as {
      $schema: string;
      version: string;
      scope: string;
      collectedAt: string;
      data: unknown;
    };
    assert.equal(doc.version, '1.0');
    assert.equal(doc.scope, 'instagram.profile');
    assert.deepEqual(doc.data, { username: 'alice', followers: 4 });
    assert.match(doc.$schema, /\/schemas\/1\.json$/);
    const receiptHash = res.headers.get('hearth-receipt-hash');
    assert.match(receiptHash ?? '', /^0x[0-9a-f]{64}$/);

    const logs = (await (
      await fetch(`${gw.url}${base}/v1/access-logs`, { headers: bearer(alice.token) })
    ).json()) as {
      logs: Array<{
        builder: string;
        scope: string;
        outcome: string;
        grantId: string;
        receiptHash: string;
        receipt: { typedData: Parameters<typeof recoverTypedDataAddress>[0]; signature: Hex; signer: Hex };
      }>;
    };
    const row = logs.logs.find((l) => l.receiptHash === receiptHash);
    assert.ok(row, 'the read is in the access log');
    assert.deepEqual(
      [row.builder, row.scope, row.outcome, row.grantId],
      [builder.address, 'instagram.profile', 'allowed', grantId],
    );
    const signer = await recoverTypedDataAddress({
      ...row.receipt.typedData,
      signature: row.receipt.signature,
    });
    assert.equal(signer, alice.serverAddress);
    // Hearth's own access log lists the same row with its receipt.
    const hearth = (await (
      await fetch(`${gw.url}/v1/servers/${alice.serverId}/access-log`, { headers: bearer(alice.token) })
    ).json()) as { items: Array<{ receiptHash: string | null; receipt: unknown }> };
    assert.ok(hearth.items.some((i) => i.receiptHash === receiptHash && i.receipt !== null));
  });

  it('reads a version by fileId or by time, and lists scopes and versions to the builder', async () => {
    const versions = await builderGet(`${base}/v1/data/instagram.profile/versions`);
    assert.equal(versions.res.status, 200);
    const v = (await versions.res.json()) as {
      scope: string;
      versions: Array<{ fileId: string; collectedAt: string }>;
      total: number;
    };
    assert.equal(v.total, 2);
    const oldest = v.versions[1];
    const byFile = await builderGet(`${base}/v1/data/instagram.profile?fileId=${oldest.fileId}`, { grantId });
    assert.equal(byFile.res.status, 200);
    assert.deepEqual(((await byFile.res.json()) as { data: unknown }).data, {
      username: 'alice',
      followers: 3,
    });
    const at = encodeURIComponent(oldest.collectedAt);
    const byTime = await builderGet(`${base}/v1/data/instagram.profile?at=${at}`, { grantId });
    assert.deepEqual(((await byTime.res.json()) as { data: unknown }).data, {
      username: 'alice',
      followers: 3,
    });
    const list = await builderGet(`${base}/v1/data?scopePrefix=instagram`);
    const scopes = (await list.res.json()) as {
      scopes: Array<{ scope: string; versionCount: number }>;
      total: number;
    };
    assert.deepEqual(
      scopes.scopes.map((s) => [s.scope, s.versionCount]),
      [['instagram.profile', 2]],
    );
  });

  it('refuses a replayed header', async () => {
    const path = `${base}/v1/data/instagram.profile`;
    const first = await builderGet(path, { grantId });
    assert.equal(first.res.status, 200);
    const again = await fetch(`${gw.url}${path}`, { headers: { authorization: first.authorization } });
    const err = await dpError(again);
    assert.deepEqual([err.status, err.code, err.errorCode], [401, 401, 'dp_replayed']);
  });

  it('refuses a wrong aud, a uri without its query string, and an expired signature', async () => {
    const path = `${base}/v1/data/instagram.profile`;
    const wrongAud = await builderGet(path, { grantId, sign: { aud: 'https://someone-else.example' } });
    assert.equal((await dpError(wrongAud.res)).errorCode, 'dp_wrong_audience');
    // The signature covers the query string: signed for the latest, sent asking for another version.
    const authorization = await web3Signed(builder, { aud, method: 'GET', uri: path, grantId });
    const query = await fetch(`${gw.url}${path}?at=2020-01-01T00:00:00Z`, { headers: { authorization } });
    assert.equal((await dpError(query)).errorCode, 'dp_request_mismatch');
    const old = Math.floor(Date.now() / 1000) - 3600;
    const expired = await builderGet(path, { grantId, sign: { iat: old, exp: old + 60 } });
    assert.equal((await dpError(expired.res)).errorCode, 'dp_auth_expired');
  });

  it('refuses a scope outside the grant with the protocol code 412', async () => {
    assert.equal((await ingest(alice, 'instagram.likes', { n: 1 })).status, 201);
    await setReadable(alice, 'instagram.likes', true);
    const { res } = await builderGet(`${base}/v1/data/instagram.likes`, { grantId });
    const err = await dpError(res);
    assert.deepEqual([err.status, err.code, err.errorCode], [403, 412, 'dp_scope_not_granted']);
    assert.deepEqual(err.details.grantedScopes, ['instagram.profile']);
  });

  it('refuses an expired grant (411) and a revoked one (410)', async () => {
    const past = Math.floor(Date.now() / 1000) - 60;
    const expiredGrant = await chain.grant(
      alice.owner,
      granteeId,
      builder.address,
      ['instagram.profile'],
      past,
    );
    const expired = await dpError(
      (await builderGet(`${base}/v1/data/instagram.profile`, { grantId: expiredGrant })).res,
    );
    assert.deepEqual([expired.status, expired.code, expired.errorCode], [403, 411, 'dp_grant_expired']);

    const doomed = await chain.grant(alice.owner, granteeId, builder.address, ['instagram.profile']);
    assert.equal(
      (await builderGet(`${base}/v1/data/instagram.profile`, { grantId: doomed })).res.status,
      200,
    );
    await chain.revoke(alice.owner, doomed);
    const revoked = await dpError(
      (await builderGet(`${base}/v1/data/instagram.profile`, { grantId: doomed })).res,
    );
    assert.deepEqual([revoked.status, revoked.code, revoked.errorCode], [403, 410, 'dp_grant_revoked']);
  });

  it("refuses another builder's grant, a read without grantId, and the owner's grant on another server", async () => {
    const mallory = privateKeyToAccount(generatePrivateKey());
    await chain.registerBuilder(mallory.address);
    const path = `${base}/v1/data/instagram.profile`;
    const stolen = await web3Signed(mallory, { aud, method: 'GET', uri: path, grantId });
    assert.equal(
      (await dpError(await fetch(`${gw.url}${path}`, { headers: { authorization: stolen } }))).errorCode,
      'dp_grant_wrong_grantee',
    );
    assert.equal((await dpError((await builderGet(path)).res)).errorCode, 'dp_grant_required');
    // Bob's server: alice's grant is not his.
    assert.equal((await ingest(bob, 'instagram.profile', { username: 'bob' })).status, 201);
    await setReadable(bob, 'instagram.profile', true);
    const bobPath = `/dp/${bob.serverId}/v1/data/instagram.profile`;
    const cross = await builderGet(bobPath, { grantId });
    assert.equal((await dpError(cross.res)).errorCode, 'dp_grant_wrong_owner');
  });

  it('revoking readability stops raw reads again', async () => {
    await setReadable(alice, 'instagram.profile', false);
    const { res } = await builderGet(`${base}/v1/data/instagram.profile`, { grantId });
    assert.equal((await dpError(res)).errorCode, 'dp_scope_not_readable');
    const listed = { items: await ownerClient(gw.url, alice.token).dataPortabilityScopes(alice.serverId) };
    assert.deepEqual(
      listed.items.map((s) => [s.scope, s.readable]),
      [
        ['instagram.likes', true],
        ['instagram.profile', false],
      ],
    );
  });

  it('the owner lists and verifies grants; builders may not; health answers', async () => {
    const grants = (await (
      await fetch(`${gw.url}${base}/v1/grants`, { headers: bearer(alice.token) })
    ).json()) as {
      grants: Array<{ grantId: string; builder: string; scopes: string[]; revoked: boolean }>;
    };
    const mine = grants.grants.find((g) => g.grantId === grantId);
    assert.deepEqual(
      [mine?.builder, mine?.scopes, mine?.revoked],
      [builder.address, ['instagram.profile'], false],
    );
    const verify = await fetch(`${gw.url}${base}/v1/grants/verify`, {
      method: 'POST',
      headers: { ...bearer(alice.token), 'content-type': 'application/json' },
      body: JSON.stringify({ grantId }),
    });
    assert.equal(((await verify.json()) as { valid: boolean }).valid, true);
    const asBuilder = await builderGet(`${base}/v1/grants`);
    assert.equal((await dpError(asBuilder.res)).errorCode, 'dp_not_owner');
    const health = (await (await fetch(`${gw.url}${base}/health`)).json()) as {
      status: string;
      registries: string;
    };
    assert.deepEqual([health.status, health.registries], ['healthy', 'reachable']);
  });

  it('the owner deletes a scope', async () => {
    const del = await fetch(`${gw.url}${base}/v1/data/instagram.likes`, {
      method: 'DELETE',
      headers: bearer(alice.token),
    });
    assert.deepEqual(await del.json(), { scope: 'instagram.likes', deletedCount: 1 });
    const gone = await fetch(`${gw.url}${base}/v1/data/instagram.likes`, { headers: bearer(alice.token) });
    assert.equal((await dpError(gone)).errorCode, 'dp_data_not_found');
  });
});

describe('Data Portability Protocol: unreachable registries deny', () => {
  let gw: RunningGateway;

  before(async () => {
    // A chain URL nothing answers at: the registries cannot be read.
    gw = await startGateway({ CHAIN_RPC_URL: 'http://127.0.0.1:9', CHAIN_TIMEOUT_MS: '500' });
  });
  after(() => gw?.close());

  it('a builder read is a 503 with Retry-After, in the protocol shape', async () => {
    const t = await newTenant(gw.url);
    const builder = privateKeyToAccount(generatePrivateKey());
    const path = `/dp/${t.serverId}/v1/data/instagram.profile`;
    const authorization = await web3Signed(builder, {
      aud: gw.config.siweOrigins[0],
      method: 'GET',
      uri: path,
      grantId: '1',
    });
    const res = await fetch(`${gw.url}${path}`, { headers: { authorization } });
    const err = await dpError(res);
    assert.deepEqual([err.status, err.code, err.errorCode], [503, 503, 'dp_registry_unavailable']);
    assert.ok(res.headers.get('retry-after'));
  });
});

describe('Data Portability Protocol: a per-server host name', () => {
  let gw: RunningGateway;

  before(async () => {
    gw = await startGateway({ DP_HOST_SUFFIX: '.dp.localhost' });
  });
  after(() => gw?.close());

  /** A request with its own Host header (fetch does not send one of the caller's). */
  function get(
    host: string,
    path: string,
    headers: Record<string, string>,
  ): Promise<{ status: number; body: string }> {
    const { port } = new URL(gw.url);
    return new Promise((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, path, headers: { ...headers, host } }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end();
    });
  }

  it("serves the server's routes at the root of its host, with that host's origin as aud", async () => {
    const t = await newTenant(gw.url);
    const host = `${t.serverId}.dp.localhost`;
    const health = await get(host, '/health', {});
    assert.equal((JSON.parse(health.body) as { serverId: string }).serverId, t.serverId);
    const path = '/v1/data?limit=5';
    const own = await web3Signed(t.owner, { aud: `http://${host}`, method: 'GET', uri: path });
    const listed = await get(host, path, { authorization: own });
    assert.equal(listed.status, 200, listed.body);
    assert.deepEqual(JSON.parse(listed.body), { scopes: [], total: 0, limit: 5, offset: 0 });
    // Hearth's origin is not this host's: a payload for it is refused here.
    const other = await web3Signed(t.owner, { aud: gw.config.siweOrigins[0], method: 'GET', uri: path });
    const refused = await get(host, path, { authorization: other });
    assert.equal((JSON.parse(refused.body) as DpErrorBody).error.errorCode, 'dp_wrong_audience');
  });
});

describe('Data Portability Protocol: rate limits per client IP and per signer', () => {
  let gw: RunningGateway;
  let alice: Tenant;
  let aud: string;

  before(async () => {
    // A prefix of its own: the other gateways of this file counted this IP's requests under the shared one.
    gw = await startGateway({
      DP_RATE_PER_MINUTE: '3',
      DP_RATE_PER_MINUTE_PER_IP: '6',
      QUEUE_PREFIX: `${process.env.QUEUE_PREFIX}-dp-limits`,
    });
    aud = gw.config.siweOrigins[0];
    alice = await newTenant(gw.url);
  });
  after(async () => {
    await gw?.close();
  });

  it('a signer past its limit gets 429 rate_limited in the protocol shape; made-up signatures use up the IP', async () => {
    const path = `/dp/${alice.serverId}/v1/data`;
    const stranger = privateKeyToAccount(generatePrivateKey());
    const signedGet = async (account: PrivateKeyAccount) => {
      const authorization = await web3Signed(account, {
        aud,
        method: 'GET',
        uri: path,
        override: { nonce: randomUUID() },
      });
      return fetch(`${gw.url}${path}`, { headers: { authorization } });
    };
    // A signer that is no registered builder is still counted: its signature verified.
    for (let i = 0; i < 3; i++) {
      const err = await dpError(await signedGet(stranger));
      assert.equal(err.errorCode, 'dp_builder_unregistered');
    }
    const limited = await signedGet(stranger);
    assert.equal(limited.headers.get('content-type')?.split(';')[0], 'application/json');
    assert.ok(Number(limited.headers.get('retry-after')) >= 1, 'Retry-After');
    const err = await dpError(limited);
    assert.deepEqual([err.status, err.code, err.errorCode], [429, 429, 'rate_limited']);
    // Another signer has a limit of its own; the owner's wallet too.
    const own = await signedGet(alice.owner);
    assert.equal(own.status, 200, await own.clone().text());
    // Four Web3Signed attempts and the owner's make five of this IP's six: one more header is looked at, then none.
    const garbage = () =>
      fetch(`${gw.url}${path}`, { headers: { authorization: 'Web3Signed not-a-payload' } });
    assert.equal((await dpError(await garbage())).errorCode, 'dp_auth_malformed');
    const flooded = await dpError(await garbage());
    assert.deepEqual([flooded.status, flooded.errorCode], [429, 'rate_limited']);
    // An owner session is not a Web3Signed attempt: it counts against the account, as on the owner routes.
    const session = await fetch(`${gw.url}${path}`, { headers: bearer(alice.token) });
    assert.equal(session.status, 200, await session.clone().text());
  });
});
