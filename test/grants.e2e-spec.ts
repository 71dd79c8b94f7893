import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  createHearthPublicClient,
  DataPermissionsContract,
  fileIdToUint,
  hearthChain,
  WhitelistContract,
} from '@hearth/permissions';
import { createWalletClient, getAddress, http, type Address, type PublicClient } from 'viem';
import {
  generatePrivateKey,
  mnemonicToAccount,
  type PrivateKeyAccount,
  privateKeyToAccount,
} from 'viem/accounts';
import { problemOf, type RunningGateway, startGateway } from './support/apps';
import { bearer, signIn, type SignedIn } from './support/siwe';

/** Typed data as the API returns it: JSON, uint fields as decimal strings. */
interface JsonTypedData {
  domain: { name: string; version: string; chainId: number; verifyingContract: string };
  types: Record<string, Array<{ name: string; type: string }>>;
  primaryType: string;
  message: Record<string, unknown>;
}

interface GrantView {
  grantId: string;
  grantee: string;
  operations: string[];
  fileIds: string[];
  allFiles: boolean;
  expiresAt: string | null;
  status: 'active' | 'revoked' | 'expired';
  txHash: string | null;
}

/**
 * viem signs the JSON exactly as the API returns it: it accepts decimal strings for uint fields, so a client
 * needs no conversion (the cast only quiets viem's literal-type inference).
 */
function sign(account: PrivateKeyAccount, typedData: JsonTypedData): Promise<`0x${string}`> {
  return account.signTypedData(typedData as unknown as Parameters<PrivateKeyAccount['signTypedData']>[0]);
}

/** Hardhat's public dev mnemonic; account #15 (funded on the dev chain) is used by no other test file. */
const DEV_MNEMONIC = 'test test test test test test test test test test test junk';

function clone<T>(v: T): T {
  return structuredClone(v);
}

describe('grants', () => {
  let gw: RunningGateway;
  let client: PublicClient;
  let dataPermissions: Address;
  let owner: SignedIn;
  let stranger: SignedIn;
  let fileA: string;
  let fileB: string;
  let strangerFile: string;
  const app = privateKeyToAccount(generatePrivateKey());
  const otherWallet = privateKeyToAccount(generatePrivateKey());

  function request(method: string, path: string, token: string, body?: unknown): Promise<Response> {
    return fetch(`${gw.url}${path}`, {
      method,
      headers: { ...bearer(token), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  }

  async function upload(user: SignedIn, name: string): Promise<string> {
    const res = await fetch(`${gw.url}/v1/servers/${user.serverId}/files?name=${name}`, {
      method: 'POST',
      headers: { ...bearer(user.token), 'content-type': 'text/plain' },
      body: `notes of ${name}: the weather was fine and the meeting went well`,
    });
    assert.equal(res.status, 201, await res.clone().text());
    return ((await res.json()) as { id: string }).id;
  }

  async function grantTypedData(body: Record<string, unknown>, user = owner): Promise<JsonTypedData> {
    const res = await request('POST', `/v1/servers/${user.serverId}/grants/typed-data`, user.token, {
      appAddress: app.address,
      operations: ['summarize'],
      fileIds: [fileA],
      ...body,
    });
    assert.equal(res.status, 200, await res.clone().text());
    return ((await res.json()) as { typedData: JsonTypedData }).typedData;
  }

  /** This owner's nonce and grants on chain: other test files add grants to the same chain meanwhile. */
  async function chainState(): Promise<{ nonce: bigint; ownGrants: number }> {
    const [nonce, added] = await Promise.all([
      client.readContract({
        address: dataPermissions,
        abi: DataPermissionsContract.abi,
        functionName: 'nonces',
        args: [owner.address],
      }),
      client.getContractEvents({
        address: dataPermissions,
        abi: DataPermissionsContract.abi,
        eventName: 'GrantAdded',
        args: { grantor: owner.address },
        fromBlock: 0n,
      }),
    ]);
    return { nonce, ownGrants: added.length };
  }

  /** Posts a signed grant that must be refused without any transaction; returns the problem. */
  async function refusedGrant(typedData: JsonTypedData, signature: string, status: number) {
    const before = await chainState();
    const res = await request('POST', `/v1/servers/${owner.serverId}/grants`, owner.token, {
      typedData,
      signature,
    });
    assert.equal(res.status, status, await res.clone().text());
    const problem = await problemOf(res);
    assert.deepEqual(await chainState(), before, 'no transaction was sent');
    return problem;
  }

  async function relay(typedData: JsonTypedData): Promise<{ grantId: string; txHash: `0x${string}` }> {
    const signature = await sign(owner.account, typedData);
    const res = await request('POST', `/v1/servers/${owner.serverId}/grants`, owner.token, {
      typedData,
      signature,
    });
    assert.equal(res.status, 201, await res.clone().text());
    return (await res.json()) as { grantId: string; txHash: `0x${string}` };
  }

  async function listGrants(query = ''): Promise<{ items: GrantView[]; nextCursor: string | null }> {
    const res = await request('GET', `/v1/servers/${owner.serverId}/grants${query}`, owner.token);
    assert.equal(res.status, 200, await res.clone().text());
    return (await res.json()) as { items: GrantView[]; nextCursor: string | null };
  }

  before(async () => {
    gw = await startGateway();
    assert.ok(gw.config.dataPermissionsAddress, 'the test runner deploys DataPermissions');
    dataPermissions = gw.config.dataPermissionsAddress;
    client = createHearthPublicClient({ rpcUrl: gw.config.CHAIN_RPC_URL, chainId: gw.config.CHAIN_ID });
    [owner, stranger] = await Promise.all([signIn(gw.url), signIn(gw.url)]);
    [fileA, fileB, strangerFile] = await Promise.all([
      upload(owner, 'a.txt'),
      upload(owner, 'b.txt'),
      upload(stranger, 'theirs.txt'),
    ]);
  });
  after(async () => {
    await gw.close();
  });

  describe('typed data', () => {
    it('carries the owner as grantor, this server, the current nonce and a future deadline, JSON-safe', async () => {
      const expiresAt = new Date(Date.now() + 86_400_000);
      const td = await grantTypedData({
        appAddress: app.address.toLowerCase(),
        operations: ['summarize', 'keywords'],
        fileIds: [fileA, fileB],
        expiresAt: expiresAt.toISOString(),
      });
      const { nonce } = await chainState();
      const block = await client.getBlock({ blockTag: 'latest' });
      assert.deepEqual(td.domain, {
        name: 'Hearth DataPermissions',
        version: '1',
        chainId: gw.config.CHAIN_ID,
        verifyingContract: getAddress(dataPermissions),
      });
      assert.equal(td.primaryType, 'Grant');
      assert.deepEqual(Object.keys(td.types), ['Grant']);
      assert.equal(td.message.grantor, owner.address);
      assert.equal(td.message.grantee, app.address);
      assert.equal(td.message.serverId, owner.serverId);
      assert.deepEqual(td.message.operations, ['summarize', 'keywords']);
      assert.deepEqual(td.message.fileIds, [fileIdToUint(fileA).toString(), fileIdToUint(fileB).toString()]);
      assert.equal(td.message.allFiles, false);
      assert.equal(td.message.expiresAt, String(Math.floor(expiresAt.getTime() / 1000)));
      assert.equal(td.message.nonce, nonce.toString());
      assert.equal(typeof td.message.deadline, 'string');
      assert.ok(BigInt(td.message.deadline as string) > block.timestamp);
    });

    it('takes allFiles: true instead of fileIds, and exactly one of them', async () => {
      const td = await grantTypedData({ fileIds: undefined, allFiles: true });
      assert.equal(td.message.allFiles, true);
      assert.deepEqual(td.message.fileIds, []);
      const both = await request('POST', `/v1/servers/${owner.serverId}/grants/typed-data`, owner.token, {
        appAddress: app.address,
        operations: ['summarize'],
        fileIds: [fileA],
        allFiles: true,
      });
      assert.equal(both.status, 400);
      assert.equal((await problemOf(both)).errors?.[0].field, 'fileIds');
      const neither = await request('POST', `/v1/servers/${owner.serverId}/grants/typed-data`, owner.token, {
        appAddress: app.address,
        operations: ['summarize'],
      });
      assert.equal(neither.status, 400);
      assert.equal((await problemOf(neither)).errors?.[0].field, 'fileIds');
    });

    it('answers 404 naming fileIds.N for a file of another server', async () => {
      const res = await request('POST', `/v1/servers/${owner.serverId}/grants/typed-data`, owner.token, {
        appAddress: app.address,
        operations: ['summarize'],
        fileIds: [fileA, strangerFile],
      });
      assert.equal(res.status, 404);
      const problem = await problemOf(res);
      assert.deepEqual(
        problem.errors?.map((e) => e.field),
        ['fileIds.1'],
      );
    });

    it('answers 400 naming operations.N for an operation outside the catalog', async () => {
      const res = await request('POST', `/v1/servers/${owner.serverId}/grants/typed-data`, owner.token, {
        appAddress: app.address,
        operations: ['summarize', 'exfiltrate'],
        fileIds: [fileA],
      });
      assert.equal(res.status, 400);
      const problem = await problemOf(res);
      assert.deepEqual(
        problem.errors?.map((e) => [e.field, e.code]),
        [['operations.1', 'unknown_operation']],
      );
    });

    it('refuses unknown fields, bad addresses and a past expiry, naming each', async () => {
      const cases: Array<[Record<string, unknown>, string]> = [
        [{ appAddress: app.address, operations: ['summarize'], fileIds: [fileA], extra: 1 }, 'extra'],
        [{ appAddress: '0x1234', operations: ['summarize'], fileIds: [fileA] }, 'appAddress'],
        [{ appAddress: app.address, operations: ['summarize'], fileIds: ['nope'] }, 'fileIds.0'],
        [{ appAddress: app.address, operations: [], fileIds: [fileA] }, 'operations'],
        [
          {
            appAddress: app.address,
            operations: ['summarize'],
            fileIds: [fileA],
            expiresAt: '2001-01-01T00:00:00Z',
          },
          'expiresAt',
        ],
      ];
      for (const [body, field] of cases) {
        const res = await request(
          'POST',
          `/v1/servers/${owner.serverId}/grants/typed-data`,
          owner.token,
          body,
        );
        assert.equal(res.status, 400, `${field}: ${await res.clone().text()}`);
        const problem = await problemOf(res);
        assert.ok(
          problem.errors?.some((e) => e.field === field),
          `${field}: ${JSON.stringify(problem.errors)}`,
        );
      }
    });
  });

  describe('grant, list, revoke', () => {
    let grant: { grantId: string; txHash: `0x${string}` };
    let used: { typedData: JsonTypedData; signature: string };

    it('relays an owner-signed grant and lists it active', async () => {
      const typedData = await grantTypedData({
        operations: ['summarize', 'keywords'],
        fileIds: [fileA, fileB],
      });
      const before = await chainState();
      const signature = await sign(owner.account, typedData);
      const res = await request('POST', `/v1/servers/${owner.serverId}/grants`, owner.token, {
        typedData,
        signature,
      });
      assert.equal(res.status, 201, await res.clone().text());
      grant = (await res.json()) as { grantId: string; txHash: `0x${string}` };
      used = { typedData, signature };
      assert.match(grant.grantId, /^[1-9][0-9]*$/);
      const receipt = await client.getTransactionReceipt({ hash: grant.txHash });
      assert.equal(receipt.status, 'success');
      const afterState = await chainState();
      assert.equal(afterState.nonce, before.nonce + 1n);
      assert.equal(afterState.ownGrants, before.ownGrants + 1);

      const expected: GrantView = {
        grantId: grant.grantId,
        grantee: app.address,
        operations: ['summarize', 'keywords'],
        fileIds: [fileA, fileB],
        allFiles: false,
        expiresAt: null,
        status: 'active',
        txHash: grant.txHash,
      };
      const { items } = await listGrants();
      assert.deepEqual(
        items.find((g) => g.grantId === grant.grantId),
        expected,
      );
      const one = await request('GET', `/v1/servers/${owner.serverId}/grants/${grant.grantId}`, owner.token);
      assert.equal(one.status, 200);
      assert.deepEqual(await one.json(), expected);

      // The contract itself allows the app now.
      const allowed = await client.readContract({
        address: dataPermissions,
        abi: DataPermissionsContract.abi,
        functionName: 'isAllowed',
        args: [BigInt(grant.grantId), app.address, 'summarize', fileIdToUint(fileA)],
      });
      assert.equal(allowed, true);
    });

    it('refuses a replay of a used signature (stale nonce) without a transaction', async () => {
      const problem = await refusedGrant(used.typedData, used.signature, 400);
      assert.ok(
        problem.errors?.some((e) => e.field === 'typedData.message.nonce' && e.code === 'stale_nonce'),
      );
    });

    it('pages with limit and cursor (the last grantId)', async () => {
      const second = await relay(
        await grantTypedData({ fileIds: undefined, allFiles: true, operations: ['stats'] }),
      );
      const first = await listGrants('?limit=1');
      assert.equal(first.items.length, 1);
      assert.equal(first.items[0].grantId, grant.grantId);
      assert.equal(first.nextCursor, grant.grantId);
      const next = await listGrants(`?limit=1&cursor=${first.nextCursor}`);
      assert.deepEqual(
        next.items.map((g) => [g.grantId, g.allFiles, g.fileIds]),
        [[second.grantId, true, []]],
      );
      assert.equal(next.nextCursor, null);
      const bad = await request('GET', `/v1/servers/${owner.serverId}/grants?cursor=abc`, owner.token);
      assert.equal(bad.status, 400);
      assert.equal((await problemOf(bad)).errors?.[0].field, 'query.cursor');
    });

    it('revokes with an owner-signed revocation, and the list shows it revoked', async () => {
      const tdRes = await request(
        'POST',
        `/v1/servers/${owner.serverId}/grants/${grant.grantId}/revoke/typed-data`,
        owner.token,
      );
      assert.equal(tdRes.status, 200, await tdRes.clone().text());
      const { typedData } = (await tdRes.json()) as { typedData: JsonTypedData };
      assert.equal(typedData.primaryType, 'RevokeGrant');
      assert.equal(typedData.message.grantId, grant.grantId);
      assert.equal(typedData.message.grantor, owner.address);

      // The typed data's grant must be the one in the path, and the signer the owner.
      const wrongGrant = clone(typedData);
      wrongGrant.message.grantId = '999999';
      const wrong = await request(
        'POST',
        `/v1/servers/${owner.serverId}/grants/${grant.grantId}/revoke`,
        owner.token,
        {
          typedData: wrongGrant,
          signature: await sign(owner.account, wrongGrant),
        },
      );
      assert.equal(wrong.status, 400);
      assert.equal((await problemOf(wrong)).errors?.[0].field, 'typedData.message.grantId');
      const byOther = await request(
        'POST',
        `/v1/servers/${owner.serverId}/grants/${grant.grantId}/revoke`,
        owner.token,
        {
          typedData,
          signature: await sign(otherWallet, typedData),
        },
      );
      assert.equal(byOther.status, 400);
      assert.equal((await problemOf(byOther)).code, 'signature_mismatch');

      const res = await request(
        'POST',
        `/v1/servers/${owner.serverId}/grants/${grant.grantId}/revoke`,
        owner.token,
        {
          typedData,
          signature: await sign(owner.account, typedData),
        },
      );
      assert.equal(res.status, 200, await res.clone().text());
      const revoked = (await res.json()) as { grantId: string; txHash: `0x${string}` };
      assert.equal(revoked.grantId, grant.grantId);
      assert.equal((await client.getTransactionReceipt({ hash: revoked.txHash })).status, 'success');

      const { items } = await listGrants();
      assert.equal(items.find((g) => g.grantId === grant.grantId)?.status, 'revoked');
      const again = await request(
        'POST',
        `/v1/servers/${owner.serverId}/grants/${grant.grantId}/revoke/typed-data`,
        owner.token,
      );
      assert.equal(again.status, 409);
    });

    it("answers 404 for another server's or owner's grant, and for unknown or malformed ids", async () => {
      const cases: Array<[string, string]> = [
        [`/v1/servers/${stranger.serverId}/grants/${grant.grantId}`, stranger.token],
        [`/v1/servers/${owner.serverId}/grants/${grant.grantId}`, stranger.token],
        [`/v1/servers/${owner.serverId}/grants/999999999`, owner.token],
        [`/v1/servers/${owner.serverId}/grants/abc`, owner.token],
      ];
      for (const [path, token] of cases) {
        const res = await request('GET', path, token);
        assert.equal(res.status, 404, path);
        await problemOf(res);
      }
      const typed = await request(
        'POST',
        `/v1/servers/${stranger.serverId}/grants/${grant.grantId}/revoke/typed-data`,
        stranger.token,
      );
      assert.equal(typed.status, 404);
      const listOnA = await request('GET', `/v1/servers/${owner.serverId}/grants`, stranger.token);
      assert.equal(listOnA.status, 404);
      const theirs = await request('GET', `/v1/servers/${stranger.serverId}/grants`, stranger.token);
      assert.deepEqual(((await theirs.json()) as { items: unknown[] }).items, []);
    });
  });

  describe('refused before any transaction', () => {
    let typedData: JsonTypedData;
    before(async () => {
      typedData = await grantTypedData({});
    });

    it('a signature by another wallet: 400 signature_mismatch naming signature', async () => {
      const problem = await refusedGrant(typedData, await sign(otherWallet, typedData), 400);
      assert.equal(problem.code, 'signature_mismatch');
      assert.deepEqual(
        problem.errors?.map((e) => e.field),
        ['signature'],
      );
    });

    it('an aggregate operation on a personal server: 400 operation_not_allowed_for_server_kind, nothing relayed', async () => {
      // Today such a grant is relayed (gas paid) and every run of it ends below_k_threshold.
      const asked = await request('POST', `/v1/servers/${owner.serverId}/grants/typed-data`, owner.token, {
        appAddress: app.address,
        operations: ['summarize', 'counts'],
        fileIds: [fileA],
      });
      assert.equal(asked.status, 400, await asked.clone().text());
      const askedProblem = await problemOf(asked);
      assert.equal(askedProblem.code, 'operation_not_allowed_for_server_kind');
      assert.deepEqual(
        askedProblem.errors?.map((e) => [e.field, e.code]),
        [['operations.1', 'operation_not_allowed_for_server_kind']],
      );
      // The same grant built and signed elsewhere is refused before any transaction.
      const td = clone(typedData);
      td.message.operations = ['counts'];
      const problem = await refusedGrant(td, await sign(owner.account, td), 400);
      assert.equal(problem.code, 'operation_not_allowed_for_server_kind');
      assert.deepEqual(
        problem.errors?.map((e) => e.field),
        ['typedData.message.operations.0'],
      );
    });

    it('a per-person operation on a collective: 400 operation_not_allowed_for_server_kind', async () => {
      const created = await request('POST', '/v1/servers', owner.token, {
        kind: 'collective',
        name: 'circle',
      });
      assert.equal(created.status, 201, await created.clone().text());
      const collective = (await created.json()) as { id: string };
      const res = await request('POST', `/v1/servers/${collective.id}/grants/typed-data`, owner.token, {
        appAddress: app.address,
        operations: ['counts', 'summarize'],
        allFiles: true,
      });
      assert.equal(res.status, 400, await res.clone().text());
      const problem = await problemOf(res);
      assert.equal(problem.code, 'operation_not_allowed_for_server_kind');
      assert.deepEqual(
        problem.errors?.map((e) => e.field),
        ['operations.1'],
      );
    });

    it('a grantor other than the owner: 403', async () => {
      const td = clone(typedData);
      td.message.grantor = otherWallet.address;
      const problem = await refusedGrant(td, await sign(otherWallet, td), 403);
      assert.equal(problem.code, 'forbidden');
      assert.equal(problem.errors?.[0].field, 'typedData.message.grantor');
    });

    it('another server id: 400', async () => {
      const td = clone(typedData);
      td.message.serverId = stranger.serverId;
      const problem = await refusedGrant(td, await sign(owner.account, td), 400);
      assert.equal(problem.errors?.[0].field, 'typedData.message.serverId');
    });

    it('a wrong chain id or verifying contract: 400 naming it', async () => {
      const td = clone(typedData);
      td.domain.chainId = 1;
      let problem = await refusedGrant(td, await sign(owner.account, td), 400);
      assert.deepEqual(
        problem.errors?.map((e) => [e.field, e.code]),
        [['typedData.domain.chainId', 'wrong_chain']],
      );
      const td2 = clone(typedData);
      td2.domain.verifyingContract = otherWallet.address;
      problem = await refusedGrant(td2, await sign(owner.account, td2), 400);
      assert.deepEqual(
        problem.errors?.map((e) => [e.field, e.code]),
        [['typedData.domain.verifyingContract', 'wrong_contract']],
      );
    });

    it('an expired deadline: 400', async () => {
      const td = clone(typedData);
      td.message.deadline = '1000';
      const problem = await refusedGrant(td, await sign(owner.account, td), 400);
      assert.deepEqual(
        problem.errors?.map((e) => [e.field, e.code]),
        [['typedData.message.deadline', 'expired']],
      );
    });

    it('a file of another server in the signed message: 404', async () => {
      const td = clone(typedData);
      td.message.fileIds = [fileIdToUint(strangerFile).toString()];
      const problem = await refusedGrant(td, await sign(owner.account, td), 404);
      assert.equal(problem.errors?.[0].field, 'typedData.message.fileIds.0');
    });

    it('malformed typed data, unknown fields and a malformed signature: 400 naming each', async () => {
      const signature = await sign(owner.account, typedData);
      const malformed = clone(typedData);
      malformed.message.nonce = 'abc';
      malformed.types = { Grant: [] };
      let problem = await refusedGrant(malformed, signature, 400);
      assert.deepEqual(problem.errors?.map((e) => e.field).sort(), [
        'typedData.message.nonce',
        'typedData.types',
      ]);

      const extra = clone(typedData);
      extra.message.note = 'hi';
      (extra.domain as Record<string, unknown>).salt = '0x00';
      problem = await refusedGrant(extra, signature, 400);
      assert.deepEqual(problem.errors?.map((e) => [e.field, e.code]).sort(), [
        ['typedData.domain.salt', 'unknown_field'],
        ['typedData.message.note', 'unknown_field'],
      ]);

      problem = await refusedGrant(typedData, '0x1234', 400);
      assert.equal(problem.errors?.[0].field, 'signature');

      const before = await chainState();
      const res = await request('POST', `/v1/servers/${owner.serverId}/grants`, owner.token, {
        typedData,
        signature,
        extra: true,
      });
      assert.equal(res.status, 400);
      assert.deepEqual(
        (await problemOf(res)).errors?.map((e) => [e.field, e.code]),
        [['extra', 'unknown_field']],
      );
      assert.deepEqual(await chainState(), before);
    });

    it('and the untouched typed data still relays afterwards (nothing was consumed)', async () => {
      const relayed = await relay(typedData);
      assert.match(relayed.grantId, /^[1-9][0-9]*$/);
    });
  });

  describe('policy', () => {
    it('refuses an address without the seed interface (an EOA): 400 policy_invalid', async () => {
      const res = await request('PUT', `/v1/servers/${owner.serverId}/policy`, owner.token, {
        kind: 'contract',
        address: otherWallet.address,
      });
      assert.equal(res.status, 400);
      const problem = await problemOf(res);
      assert.equal(problem.code, 'policy_invalid');
      assert.equal(problem.errors?.[0].field, 'address');
      // DataPermissions has code but not the interface.
      const dp = await request('PUT', `/v1/servers/${owner.serverId}/policy`, owner.token, {
        kind: 'contract',
        address: dataPermissions,
      });
      assert.equal(dp.status, 400);
      assert.equal((await problemOf(dp)).code, 'policy_invalid');
      const bad = await request('PUT', `/v1/servers/${owner.serverId}/policy`, owner.token, {
        kind: 'magic',
      });
      assert.equal(bad.status, 400);
      assert.equal((await problemOf(bad)).errors?.[0].field, 'kind');
    });

    it('takes a deployed Whitelist, shows it on the server, and resets to grants', async () => {
      const deployer = mnemonicToAccount(DEV_MNEMONIC, { addressIndex: 15 });
      const wallet = createWalletClient({
        account: deployer,
        chain: hearthChain(gw.config.CHAIN_ID, gw.config.CHAIN_RPC_URL),
        transport: http(gw.config.CHAIN_RPC_URL),
      });
      const hash = await wallet.deployContract({
        abi: WhitelistContract.abi,
        bytecode: WhitelistContract.bytecode,
        args: [owner.address],
      });
      const receipt = await client.waitForTransactionReceipt({ hash });
      assert.ok(receipt.contractAddress);
      const whitelist = getAddress(receipt.contractAddress);

      const res = await request('PUT', `/v1/servers/${owner.serverId}/policy`, owner.token, {
        kind: 'contract',
        address: whitelist.toLowerCase(),
      });
      assert.equal(res.status, 200, await res.clone().text());
      assert.deepEqual(await res.json(), { kind: 'contract', address: whitelist });
      const server = await request('GET', `/v1/servers/${owner.serverId}`, owner.token);
      assert.deepEqual(((await server.json()) as { policy: unknown }).policy, {
        kind: 'contract',
        address: whitelist,
      });

      const onA = await request('PUT', `/v1/servers/${owner.serverId}/policy`, stranger.token, {
        kind: 'grants',
      });
      assert.equal(onA.status, 404);

      const reset = await request('PUT', `/v1/servers/${owner.serverId}/policy`, owner.token, {
        kind: 'grants',
      });
      assert.equal(reset.status, 200);
      assert.deepEqual(await reset.json(), { kind: 'grants' });
      const after = await request('GET', `/v1/servers/${owner.serverId}`, owner.token);
      assert.deepEqual(((await after.json()) as { policy: unknown }).policy, { kind: 'grants' });
    });
  });
});
