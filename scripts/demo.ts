import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HearthApp, HearthOwner, HearthProblemError } from '@hearth/sdk';
import { startStack } from './lib/stack';

/**
 * `npm run demo`: the main path on embedded defaults, as a person and an app walk it with @hearth/sdk:
 * sign in, upload a journal, create an API key for an app wallet, sign and relay a grant, run `summarize`
 * (with its status events), verify the receipt, revoke, see the next operation denied, read the access log.
 */
const out = (text: string) => process.stdout.write(`${text}\n`);
const step = (n: number, text: string) => out(`\n[${n}] ${text}`);
const show = (value: unknown) => out(`    ${JSON.stringify(value, null, 2).replace(/\n/g, '\n    ')}`);

async function main(): Promise<void> {
  // HEARTH_GATEWAY_URL: walk the path against a running deployment (e.g. compose) instead of starting one.
  const external = process.env.HEARTH_GATEWAY_URL;
  step(
    1,
    external
      ? `using the running gateway at ${external}`
      : 'starting the stack on embedded defaults: migrations, dev chain + contracts, gateway, worker',
  );
  const stack = external
    ? { gatewayUrl: external.replace(/\/$/, ''), stop: async () => undefined }
    : await startStack({ quiet: true, log: (l) => out(`    ${l}`) });
  const baseUrl = stack.gatewayUrl;
  try {
    const ownerAccount = privateKeyToAccount(generatePrivateKey());
    const appAccount = privateKeyToAccount(generatePrivateKey());

    step(
      2,
      `the owner ${ownerAccount.address} signs in with Ethereum (SIWE); the first sign-in provisions a personal server`,
    );
    const owner = await HearthOwner.signIn(ownerAccount, { baseUrl });
    const server = await owner.personalServer();
    show({
      id: server.id,
      kind: server.kind,
      address: server.address,
      publicKey: `${server.publicKey.slice(0, 20)}…`,
    });

    step(3, 'upload a sample journal (plaintext in, encrypted on arrival under a fresh data key)');
    const journal = readFileSync(join(__dirname, 'demo-data', 'journal.txt'), 'utf8');
    const file = await owner.upload(server.id, journal, {
      name: 'journal-march.txt',
      contentType: 'text/plain',
    });
    show({ id: file.id, size: file.size, encryption: file.encryption });

    step(4, `create an API key for the app wallet ${appAccount.address}`);
    const key = await owner.createApiKey(server.id, {
      name: 'journal-insights',
      appAddress: appAccount.address,
      ratePerMinute: 120,
    });
    show({ id: key.id, key: `${key.key.slice(0, 16)}… (shown once)` });

    step(
      5,
      'the owner signs an EIP-712 grant (summarize and keywords, on that file); the platform relays it on-chain',
    );
    const grant = await owner.grant(server.id, {
      appAddress: appAccount.address,
      operations: ['summarize', 'keywords'],
      fileIds: [file.id],
    });
    show(grant);

    step(6, 'the app runs `summarize` (it never sees the journal): Prefer: wait, else its event stream');
    const app = new HearthApp({ apiKey: key.key, baseUrl });
    const done = await app.run('summarize', {
      fileIds: [file.id],
      parameters: { sentences: 2 },
      grantId: grant.grantId,
      onProgress: (e) => out(`    event: ${e.status}`),
    });

    step(7, 'the result and the server-signed receipt');
    show({ status: done.status, result: done.result });
    show({ receipt: done.receipt?.typedData.message, signer: done.receipt?.signer });
    show({ timingsMs: done.timings });

    step(8, "verify the receipt against the server's address, as the server reports it (not the receipt)");
    const verified = await app.verifyReceipt(done);
    out(`    receipt signed by ${verified.signer}: VALID (${verified.checked.join(', ')})`);

    step(9, 'the owner revokes the grant (signed, relayed)');
    show(await owner.revokeGrant(server.id, grant.grantId));

    step(10, 'the app tries again: denied');
    try {
      await app.run('summarize', {
        fileIds: [file.id],
        parameters: { sentences: 2 },
        grantId: grant.grantId,
      });
      throw new Error('the revoked grant was not denied');
    } catch (err) {
      if (!(err instanceof HearthProblemError) || err.status !== 403) throw err;
      show({ httpStatus: err.status, code: err.code, detail: err.detail });
    }

    step(11, 'the owner reads the access log: every decryption of the data, by whom, under which grant');
    const rows = [];
    for await (const r of owner.accessLog(server.id)) rows.push(r);
    show(
      rows.map((r) => ({
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
    step(12, 'stopping everything');
    await stack.stop();
  }
  out('\ndemo finished');
}

main().catch((err: unknown) => {
  process.stderr.write(`demo failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
