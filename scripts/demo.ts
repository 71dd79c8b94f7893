import { createSiweMessage } from 'viem/siwe';
import { generatePrivateKey, privateKeyToAccount, type PrivateKeyAccount } from 'viem/accounts';
import { verifyTypedData, type TypedDataDefinition } from 'viem';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startStack } from './lib/stack';

/**
 * `npm run demo`: the main path on embedded defaults, as a person and an app would walk it over HTTP:
 * sign in, upload a journal, create an API key for an app wallet, sign and relay a grant, run `summarize`,
 * stream its events, verify the receipt, revoke, see the next operation denied, read the access log.
 */
let base = '';
const out = (text: string) => process.stdout.write(`${text}\n`);
const step = (n: number, text: string) => out(`\n[${n}] ${text}`);
const show = (value: unknown) => out(`    ${JSON.stringify(value, null, 2).replace(/\n/g, '\n    ')}`);

async function call<T>(
  method: string,
  path: string,
  opts: {
    token?: string;
    json?: unknown;
    body?: string;
    type?: string;
    headers?: Record<string, string>;
  } = {},
): Promise<{ status: number; body: T }> {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let body: string | undefined;
  if (opts.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(opts.json);
  } else if (opts.body !== undefined) {
    headers['content-type'] = opts.type ?? 'application/octet-stream';
    body = opts.body;
  }
  const res = await fetch(`${base}${path}`, { method, headers, body });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
}

async function expectStatus<T>(p: Promise<{ status: number; body: T }>, status: number): Promise<T> {
  const res = await p;
  if (res.status !== status)
    throw new Error(`expected HTTP ${status}, got ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body;
}

async function signIn(account: PrivateKeyAccount): Promise<string> {
  const nonce = await expectStatus(
    call<{ nonce: string; domain: string; chainId: number }>('GET', '/v1/auth/nonce'),
    200,
  );
  const message = createSiweMessage({
    domain: nonce.domain,
    address: account.address,
    statement: 'Sign in to Hearth',
    uri: base,
    version: '1',
    chainId: nonce.chainId,
    nonce: nonce.nonce,
  });
  const session = await expectStatus(
    call<{ token: string; expiresAt: string; address: string }>('POST', '/v1/auth/siwe', {
      json: { message, signature: await account.signMessage({ message }) },
    }),
    201,
  );
  return session.token;
}

/** Reads the SSE stream until the operation ends; prints each event. */
async function streamEvents(path: string, apiKey: string): Promise<string[]> {
  const res = await fetch(`${base}${path}`, {
    headers: { authorization: `Bearer ${apiKey}`, accept: 'text/event-stream' },
  });
  if (!res.ok || !res.body) throw new Error(`events: HTTP ${res.status}`);
  const seen: string[] = [];
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of res.body) {
    buffer += decoder.decode(chunk as Uint8Array, { stream: true });
    let cut: number;
    while ((cut = buffer.indexOf('\n\n')) >= 0) {
      const frame = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      const data = frame.split('\n').find((l) => l.startsWith('data: '));
      if (data) {
        const event = JSON.parse(data.slice(6)) as { status: string };
        seen.push(event.status);
        out(`    event: ${event.status}`);
      }
    }
  }
  return seen;
}

type Typed = TypedDataDefinition & { domain: Record<string, unknown>; message: Record<string, unknown> };

async function main(): Promise<void> {
  step(1, 'starting the stack on embedded defaults: migrations, dev chain + contracts, gateway, worker');
  const stack = await startStack({ quiet: true, log: (l) => out(`    ${l}`) });
  base = stack.gatewayUrl;
  try {
    const owner = privateKeyToAccount(generatePrivateKey());
    const app = privateKeyToAccount(generatePrivateKey());

    step(
      2,
      `the owner ${owner.address} signs in with Ethereum (SIWE); the first sign-in provisions a personal server`,
    );
    const session = await signIn(owner);
    const servers = await expectStatus(
      call<{ items: Array<{ id: string }> }>('GET', '/v1/servers', { token: session }),
      200,
    );
    const server = await expectStatus(
      call<{ id: string; address: `0x${string}`; publicKey: string; kind: string }>(
        'GET',
        `/v1/servers/${servers.items[0].id}`,
        { token: session },
      ),
      200,
    );
    show({
      id: server.id,
      kind: server.kind,
      address: server.address,
      publicKey: `${server.publicKey.slice(0, 20)}…`,
    });

    step(3, 'upload a sample journal (plaintext in, encrypted on arrival under a fresh data key)');
    const journal = readFileSync(join(__dirname, 'demo-data', 'journal.txt'), 'utf8');
    const file = await expectStatus(
      call<{ id: string; size: number; encryption: string }>(
        'POST',
        `/v1/servers/${server.id}/files?name=journal-march.txt`,
        { token: session, body: journal, type: 'text/plain' },
      ),
      201,
    );
    show(file);

    step(4, `create an API key for the app wallet ${app.address}`);
    const key = await expectStatus(
      call<{ id: string; key: string }>('POST', `/v1/servers/${server.id}/api-keys`, {
        token: session,
        json: { name: 'journal-insights', appAddress: app.address, ratePerMinute: 120 },
      }),
      201,
    );
    show({ id: key.id, key: `${key.key.slice(0, 16)}… (shown once)` });

    step(
      5,
      'the owner signs an EIP-712 grant (summarize and keywords, on that file); the platform relays it on-chain',
    );
    const { typedData } = await expectStatus(
      call<{ typedData: Typed }>('POST', `/v1/servers/${server.id}/grants/typed-data`, {
        token: session,
        json: { appAddress: app.address, operations: ['summarize', 'keywords'], fileIds: [file.id] },
      }),
      200,
    );
    const grantSignature = await owner.signTypedData(typedData);
    const grant = await expectStatus(
      call<{ grantId: string; txHash: string }>('POST', `/v1/servers/${server.id}/grants`, {
        token: session,
        json: { typedData, signature: grantSignature },
      }),
      201,
    );
    show(grant);

    step(6, 'the app asks the server to run `summarize` (it never sees the journal)');
    const op = await expectStatus(
      call<{ id: string; status: string }>('POST', '/v1/operations', {
        token: key.key,
        json: {
          operation: 'summarize',
          fileIds: [file.id],
          parameters: { sentences: 2 },
          grantId: grant.grantId,
        },
        headers: { 'idempotency-key': `demo-${Date.now()}` },
      }),
      202,
    );
    show(op);

    step(7, 'stream its events (server-sent events)');
    await streamEvents(`/v1/operations/${op.id}/events`, key.key);

    step(8, 'fetch the result and the server-signed receipt');
    const done = await expectStatus(
      call<{
        status: string;
        result: unknown;
        receipt: { typedData: Typed; signature: `0x${string}`; signer: `0x${string}` };
        timings: Record<string, number>;
      }>('GET', `/v1/operations/${op.id}`, { token: key.key }),
      200,
    );
    show({ status: done.status, result: done.result });
    show({ receipt: done.receipt.typedData.message, signer: done.receipt.signer });
    show({ timingsMs: done.timings });

    step(9, "verify the receipt with viem's verifyTypedData against the server's published address");
    const valid = await verifyTypedData({
      address: server.address,
      ...done.receipt.typedData,
      signature: done.receipt.signature,
    });
    out(`    receipt signed by ${server.address}: ${valid ? 'VALID' : 'INVALID'}`);
    if (!valid) throw new Error('receipt did not verify');

    step(10, 'the owner revokes the grant (signed, relayed)');
    const revoke = await expectStatus(
      call<{ typedData: Typed }>(
        'POST',
        `/v1/servers/${server.id}/grants/${grant.grantId}/revoke/typed-data`,
        { token: session },
      ),
      200,
    );
    show(
      await expectStatus(
        call('POST', `/v1/servers/${server.id}/grants/${grant.grantId}/revoke`, {
          token: session,
          json: { typedData: revoke.typedData, signature: await owner.signTypedData(revoke.typedData) },
        }),
        200,
      ),
    );

    step(11, 'the app tries again: denied');
    const denied = await call<{ status: number; code: string; detail: string }>('POST', '/v1/operations', {
      token: key.key,
      json: {
        operation: 'summarize',
        fileIds: [file.id],
        parameters: { sentences: 2 },
        grantId: grant.grantId,
      },
    });
    show({ httpStatus: denied.status, code: denied.body.code, detail: denied.body.detail });
    if (denied.status !== 403) throw new Error('the revoked grant was not denied');

    step(12, 'the owner reads the access log: every decryption of the data, by whom, under which grant');
    const log = await expectStatus(
      call<{ items: Array<Record<string, unknown>> }>('GET', `/v1/servers/${server.id}/access-log`, {
        token: session,
      }),
      200,
    );
    show(
      log.items.map((r) => ({
        at: r.createdAt,
        actor: r.actor,
        operation: r.operation,
        grantId: r.grantId,
        outcome: r.outcome,
        block: r.blockNumber,
        receiptHash: r.receiptHash,
      })),
    );
  } finally {
    step(13, 'stopping everything');
    await stack.stop();
  }
  out('\ndemo finished');
}

main().catch((err: unknown) => {
  process.stderr.write(`demo failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
