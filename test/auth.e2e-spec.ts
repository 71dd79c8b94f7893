import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DataSource } from 'typeorm';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { problemOf, type RunningGateway, startGateway } from './support/apps';
import { bearer, getNonce, postSiwe, signIn, siweMessage } from './support/siwe';

const newWallet = () => privateKeyToAccount(generatePrivateKey());

describe('Sign-In with Ethereum', () => {
  let gw: RunningGateway;
  let db: DataSource;
  before(async () => {
    gw = await startGateway();
    db = gw.app.get(DataSource);
  });
  after(async () => {
    await gw.close();
  });

  async function rowsFor(address: string): Promise<{ accounts: number; sessions: number; servers: number }> {
    const [row] = await db.query<Array<{ accounts: number; sessions: number; servers: number }>>(
      `SELECT (SELECT count(*) FROM accounts WHERE address = $1)::int AS accounts,
              (SELECT count(*) FROM sessions s JOIN accounts a ON a.id = s.account_id WHERE a.address = $1)::int AS sessions,
              (SELECT count(*) FROM servers WHERE owner_address = $1)::int AS servers`,
      [address.toLowerCase()],
    );
    return row;
  }

  async function expect401(res: Response, code: string): Promise<void> {
    const problem = await problemOf(res);
    assert.equal(res.status, 401, JSON.stringify(problem));
    assert.equal(problem.code, code, JSON.stringify(problem));
  }

  it('hands out nonces naming the domain and chain id', async () => {
    const a = await getNonce(gw.url);
    const b = await getNonce(gw.url);
    assert.match(a.nonce, /^[A-Za-z0-9]{8,}$/);
    assert.notEqual(a.nonce, b.nonce);
    // On an ephemeral port (PORT=0), the port the gateway listens on.
    assert.equal(a.domain, new URL(gw.url).host);
    assert.equal(a.chainId, gw.config.CHAIN_ID);
  });

  it('signs in a new address, provisions its personal server, and the token works', async () => {
    const wallet = newWallet();
    const info = await getNonce(gw.url);
    const message = siweMessage(wallet, info);
    const res = await postSiwe(gw.url, message, await wallet.signMessage({ message }));
    assert.equal(res.status, 201);
    const body = (await res.json()) as { token: string; expiresAt: string; address: string };
    assert.equal(body.address, wallet.address);
    assert.match(body.token, /^hth_ses_[A-Za-z0-9_-]{43}$/);
    const ttl = Date.parse(body.expiresAt) - Date.now();
    assert.ok(
      ttl > (gw.config.SESSION_TTL_SECONDS - 60) * 1000 && ttl <= gw.config.SESSION_TTL_SECONDS * 1000,
    );
    // Only the hash is stored.
    const stored = await db.query<unknown[]>(
      `SELECT token_hash FROM sessions WHERE token_hash = sha256($1::bytea)`,
      [Buffer.from(body.token)],
    );
    assert.equal(stored.length, 1);
    const plain = await db.query<unknown[]>(
      `SELECT 1 FROM sessions WHERE encode(token_hash, 'escape') LIKE '%' || $1 || '%'`,
      [body.token],
    );
    assert.equal(plain.length, 0);

    const list = await fetch(`${gw.url}/v1/servers`, { headers: bearer(body.token) });
    assert.equal(list.status, 200);
    const { items } = (await list.json()) as { items: Array<{ kind: string; owner: string }> };
    assert.equal(items.length, 1);
    assert.equal(items[0].kind, 'personal');
    assert.equal(items[0].owner, wallet.address);
    assert.deepEqual(await rowsFor(wallet.address), { accounts: 1, sessions: 1, servers: 1 });

    // A second sign-in reuses the account and server.
    const again = await signIn(gw.url, wallet);
    assert.deepEqual(await rowsFor(wallet.address), { accounts: 1, sessions: 2, servers: 1 });
    assert.equal(again.address, wallet.address);
  });

  it('bounds the session by the message expiration time', async () => {
    const wallet = newWallet();
    const info = await getNonce(gw.url);
    const expirationTime = new Date(Date.now() + 120_000);
    const message = siweMessage(wallet, info, { expirationTime });
    const res = await postSiwe(gw.url, message, await wallet.signMessage({ message }));
    assert.equal(res.status, 201);
    const body = (await res.json()) as { expiresAt: string };
    assert.equal(body.expiresAt, expirationTime.toISOString());
  });

  it('refuses a reused nonce and a replayed message', async () => {
    const wallet = newWallet();
    const info = await getNonce(gw.url);
    const message = siweMessage(wallet, info);
    const signature = await wallet.signMessage({ message });
    assert.equal((await postSiwe(gw.url, message, signature)).status, 201);
    await expect401(await postSiwe(gw.url, message, signature), 'nonce_invalid');
    const other = siweMessage(wallet, info, { statement: 'another message, same nonce' });
    await expect401(
      await postSiwe(gw.url, other, await wallet.signMessage({ message: other })),
      'nonce_invalid',
    );
  });

  it('refuses a nonce it never issued', async () => {
    const wallet = newWallet();
    const info = { ...(await getNonce(gw.url)), nonce: 'madeup0000000000' };
    const message = siweMessage(wallet, info);
    await expect401(await postSiwe(gw.url, message, await wallet.signMessage({ message })), 'nonce_invalid');
  });

  it('refuses expired, not-yet-valid and stale messages', async () => {
    const wallet = newWallet();
    const info = await getNonce(gw.url);
    const cases = [
      { expirationTime: new Date(Date.now() - 1000) },
      { notBefore: new Date(Date.now() + 3_600_000) },
      { issuedAt: new Date(Date.now() - 3_600_000) },
    ];
    for (const overrides of cases) {
      const message = siweMessage(wallet, info, overrides);
      await expect401(
        await postSiwe(gw.url, message, await wallet.signMessage({ message })),
        'message_expired',
      );
    }
    // The failed attempts did not burn the nonce.
    const message = siweMessage(wallet, info);
    assert.equal((await postSiwe(gw.url, message, await wallet.signMessage({ message }))).status, 201);
  });

  it('refuses a wrong domain and a wrong chain', async () => {
    const wallet = newWallet();
    const info = await getNonce(gw.url);
    const wrongDomain = siweMessage(wallet, info, {
      domain: 'evil.example.com',
      uri: 'https://evil.example.com/',
    });
    await expect401(
      await postSiwe(gw.url, wrongDomain, await wallet.signMessage({ message: wrongDomain })),
      'wrong_domain',
    );
    const wrongChain = siweMessage(wallet, info, { chainId: 1 });
    await expect401(
      await postSiwe(gw.url, wrongChain, await wallet.signMessage({ message: wrongChain })),
      'wrong_chain',
    );
    assert.deepEqual(await rowsFor(wallet.address), { accounts: 0, sessions: 0, servers: 0 });
  });

  it("refuses a message for our domain whose uri is a phishing page's, or whose scheme is another", async () => {
    const wallet = newWallet();
    const info = await getNonce(gw.url);
    for (const overrides of [
      { uri: 'https://evil.example/phish' },
      { uri: `https://${info.domain}/` }, // our host, another scheme: another origin
      { scheme: 'https' },
    ]) {
      const message = siweMessage(wallet, info, overrides);
      await expect401(await postSiwe(gw.url, message, await wallet.signMessage({ message })), 'wrong_domain');
    }
    assert.deepEqual(await rowsFor(wallet.address), { accounts: 0, sessions: 0, servers: 0 });
  });

  it('on a laptop (no PUBLIC_URL): signs in on the URL npm start prints and on localhost, nowhere else', async () => {
    // The config's port is what npm start prints; the test gateway itself listens on a free port.
    const laptop = await startGateway({ PORT: '18080', HOST: '0.0.0.0' });
    try {
      const info = await getNonce(laptop.url);
      assert.equal(info.domain, '127.0.0.1:18080');
      assert.equal(info.uri, 'http://127.0.0.1:18080');
      for (const origin of ['http://127.0.0.1:18080', 'http://localhost:18080']) {
        const wallet = newWallet();
        const fresh = await getNonce(laptop.url);
        const domain = new URL(origin).host;
        const message = siweMessage(wallet, fresh, { domain, uri: `${origin}/`, scheme: 'http' });
        const res = await postSiwe(laptop.url, message, await wallet.signMessage({ message }));
        assert.equal(res.status, 201, `${origin}: ${await res.clone().text()}`);
      }
      const wallet = newWallet();
      // The domain of one accepted origin with the uri of another is refused: domain and uri agree.
      const mixed = siweMessage(wallet, await getNonce(laptop.url), {
        domain: 'localhost:18080',
        uri: 'http://127.0.0.1:18080/',
      });
      await expect401(
        await postSiwe(laptop.url, mixed, await wallet.signMessage({ message: mixed })),
        'wrong_domain',
      );
    } finally {
      await laptop.close();
    }
  });

  it('with PUBLIC_URL: signs in on its origin only', async () => {
    const hosted = await startGateway({ PUBLIC_URL: 'https://hearth.example/console' });
    try {
      const info = await getNonce(hosted.url);
      assert.deepEqual([info.domain, info.uri], ['hearth.example', 'https://hearth.example']);
      const wallet = newWallet();
      const ok = siweMessage(wallet, info, { uri: 'https://hearth.example/console', scheme: 'https' });
      const res = await postSiwe(hosted.url, ok, await wallet.signMessage({ message: ok }));
      assert.equal(res.status, 201, await res.clone().text());
      for (const overrides of [
        { uri: 'http://127.0.0.1:8080/' },
        { uri: 'https://evil.example/phish' },
        { uri: 'http://hearth.example/' },
        { scheme: 'http' },
      ]) {
        const other = newWallet();
        const message = siweMessage(other, await getNonce(hosted.url), overrides);
        await expect401(
          await postSiwe(hosted.url, message, await other.signMessage({ message })),
          'wrong_domain',
        );
      }
    } finally {
      await hosted.close();
    }
  });

  it('refuses a signature by another wallet or of another message', async () => {
    const wallet = newWallet();
    const info = await getNonce(gw.url);
    const message = siweMessage(wallet, info);
    await expect401(
      await postSiwe(gw.url, message, await newWallet().signMessage({ message })),
      'invalid_signature',
    );
    await expect401(
      await postSiwe(gw.url, message, await wallet.signMessage({ message: 'something else' })),
      'invalid_signature',
    );
    await expect401(await postSiwe(gw.url, message, `0x${'11'.repeat(65)}`), 'invalid_signature');
    assert.deepEqual(await rowsFor(wallet.address), { accounts: 0, sessions: 0, servers: 0 });
  });

  it('refuses text that is not an EIP-4361 message', async () => {
    const wallet = newWallet();
    const message = 'hello, sign me in please';
    await expect401(
      await postSiwe(gw.url, message, await wallet.signMessage({ message })),
      'invalid_siwe_message',
    );
  });

  it('answers bad input with 400 naming the field, and writes nothing', async () => {
    const wallet = newWallet();
    const info = await getNonce(gw.url);
    const message = siweMessage(wallet, info);
    const signature = await wallet.signMessage({ message });
    const cases: Array<[unknown, string]> = [
      [{ message, signature: 'not-hex' }, 'signature'],
      [{ message, signature: '0x123' }, 'signature'],
      [{ message }, 'signature'],
      [{ signature }, 'message'],
      [{ message: 42, signature }, 'message'],
      [{ message: 'x'.repeat(5000), signature }, 'message'],
      [{ message, signature, extra: true }, 'extra'],
      [[message, signature], '(body)'],
    ];
    for (const [body, field] of cases) {
      const res = await fetch(`${gw.url}/v1/auth/siwe`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      const problem = await problemOf(res);
      assert.equal(res.status, 400, JSON.stringify(problem));
      assert.equal(problem.code, 'validation_failed');
      assert.ok(
        problem.errors?.some((e) => e.field === field),
        `expected an error naming ${field}: ${JSON.stringify(problem.errors)}`,
      );
    }
    assert.deepEqual(await rowsFor(wallet.address), { accounts: 0, sessions: 0, servers: 0 });
    // The nonce survived all of it.
    assert.equal((await postSiwe(gw.url, message, signature)).status, 201);
  });

  it('answers a non-JSON body with 415', async () => {
    const res = await fetch(`${gw.url}/v1/auth/siwe`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'message=hi&signature=0x00',
    });
    assert.equal(res.status, 415);
    assert.equal((await problemOf(res)).code, 'unsupported_media_type');
  });

  it('logs out: the token stops working at once', async () => {
    const me = await signIn(gw.url);
    const out = await fetch(`${gw.url}/v1/auth/logout`, { method: 'POST', headers: bearer(me.token) });
    assert.equal(out.status, 204);
    await expect401(await fetch(`${gw.url}/v1/servers`, { headers: bearer(me.token) }), 'invalid_session');
    await expect401(
      await fetch(`${gw.url}/v1/auth/logout`, { method: 'POST', headers: bearer(me.token) }),
      'invalid_session',
    );
  });

  it('answers missing or malformed session tokens with 401', async () => {
    await expect401(await fetch(`${gw.url}/v1/servers`), 'unauthorized');
    await expect401(
      await fetch(`${gw.url}/v1/servers`, { headers: bearer('hth_ses_nope') }),
      'invalid_session',
    );
    await expect401(
      await fetch(`${gw.url}/v1/servers`, { headers: bearer(`hth_ses_${'A'.repeat(43)}`) }),
      'invalid_session',
    );
  });

  it('provisions one server when the same address signs in concurrently', async () => {
    const wallet = newWallet();
    const attempts = 8;
    const signed = await Promise.all(
      Array.from({ length: attempts }, async () => {
        const message = siweMessage(wallet, await getNonce(gw.url));
        return { message, signature: await wallet.signMessage({ message }) };
      }),
    );
    const responses = await Promise.all(signed.map((s) => postSiwe(gw.url, s.message, s.signature)));
    const tokens: string[] = [];
    for (const res of responses) {
      assert.equal(res.status, 201, await res.clone().text());
      tokens.push(((await res.json()) as { token: string }).token);
    }
    assert.deepEqual(await rowsFor(wallet.address), { accounts: 1, sessions: attempts, servers: 1 });
    const seen = new Set<string>();
    for (const token of tokens) {
      const { items } = (await (await fetch(`${gw.url}/v1/servers`, { headers: bearer(token) })).json()) as {
        items: Array<{ id: string }>;
      };
      assert.equal(items.length, 1);
      seen.add(items[0].id);
    }
    assert.equal(seen.size, 1);
  });

  it('signs an EOA in with the chain unreachable', async () => {
    const offline = await startGateway({ CHAIN_RPC_URL: 'http://127.0.0.1:9', CHAIN_TIMEOUT_MS: '500' });
    try {
      const me = await signIn(offline.url);
      assert.match(me.serverId, /^srv_[0-9a-f]{32}$/);
      const wallet = newWallet();
      const message = siweMessage(wallet, await getNonce(offline.url));
      await expect401(
        await postSiwe(offline.url, message, await newWallet().signMessage({ message })),
        'invalid_signature',
      );
    } finally {
      await offline.close();
    }
  });
});
