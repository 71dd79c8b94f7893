import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  createWalletClient,
  http,
  parseEventLogs,
  type Address,
  type Hex,
  type PrivateKeyAccount,
  type WalletClient,
  type Account,
  type Chain,
  type Transport,
} from 'viem';
import { hearthChain } from './client';
import { revertOf } from './errors';
import { fileIdToUint, uintToFileId } from './file-ids';
import { abi, bytecode } from './generated/DataPermissions';
import { abi as whitelistAbi, bytecode as whitelistBytecode } from './generated/Whitelist';
import {
  DATA_PERMISSIONS_DOMAIN_NAME,
  GRANT_TYPES,
  REVOKE_GRANT_TYPES,
  WHITELIST_CHANGE_TYPES,
  WHITELIST_DOMAIN_NAME,
  type GrantMessage,
  type WhitelistChangeMessage,
} from './typed-data';
import {
  advanceTime,
  devAccount,
  latestTimestamp,
  randomFileId,
  setupTestChain,
  type TestChain,
  withinClockMargin,
} from './testing/chain';

type Wallet = WalletClient<Transport, Chain, Account>;

describe('DataPermissions and Whitelist contracts', () => {
  let t: TestChain;
  let relayer: Wallet;
  const grantor = devAccount(1);
  const grantee = devAccount(2);
  const stranger = devAccount(3);
  const fileA = randomFileId();
  const fileB = randomFileId();

  before(async () => {
    t = await setupTestChain(10);
    relayer = walletFor(devAccount(10));
  });
  after(async () => {
    await t.stop();
  });

  function walletFor(account: PrivateKeyAccount): Wallet {
    return createWalletClient({
      account,
      chain: hearthChain(t.chainId, t.rpcUrl),
      transport: http(t.rpcUrl),
    });
  }

  const domain = () => ({
    name: DATA_PERMISSIONS_DOMAIN_NAME,
    version: '1',
    chainId: t.chainId,
    verifyingContract: t.dataPermissions,
  });

  async function nonceOf(a: Address): Promise<bigint> {
    return t.client.readContract({ address: t.dataPermissions, abi, functionName: 'nonces', args: [a] });
  }

  async function grantMessage(over: Partial<GrantMessage> = {}): Promise<GrantMessage> {
    const now = await latestTimestamp(t);
    return {
      grantor: grantor.address,
      grantee: grantee.address,
      serverId: 'srv_test',
      operations: ['summarize', 'sentiment'],
      fileIds: [fileIdToUint(fileA)],
      allFiles: false,
      expiresAt: 0n,
      nonce: await nonceOf(over.grantor ?? grantor.address),
      deadline: now + 3600n,
      ...over,
    };
  }

  function signGrant(signer: PrivateKeyAccount, message: GrantMessage): Promise<Hex> {
    return signer.signTypedData({ domain: domain(), types: GRANT_TYPES, primaryType: 'Grant', message });
  }

  async function mined(hash: Hex) {
    const receipt = await t.client.waitForTransactionReceipt({ hash });
    assert.equal(receipt.status, 'success');
    return receipt;
  }

  async function addGrant(message: GrantMessage, signature: Hex): Promise<bigint> {
    const hash = await relayer.writeContract({
      address: t.dataPermissions,
      abi,
      functionName: 'addGrant',
      args: [message, signature],
    });
    const receipt = await mined(hash);
    const [ev] = parseEventLogs({ abi, logs: receipt.logs, eventName: 'GrantAdded' });
    assert.ok(ev, 'GrantAdded emitted');
    return ev.args.grantId;
  }

  async function grant(over: Partial<GrantMessage> = {}): Promise<bigint> {
    const message = await grantMessage(over);
    return addGrant(message, await signGrant(grantor, message));
  }

  async function revertName(p: Promise<unknown>): Promise<string | undefined> {
    try {
      await p;
    } catch (err) {
      return revertOf(err)?.errorName ?? `non-revert: ${String(err)}`;
    }
    return undefined;
  }

  function simulateAdd(message: GrantMessage, signature: Hex) {
    return t.client.simulateContract({
      account: relayer.account,
      address: t.dataPermissions,
      abi,
      functionName: 'addGrant',
      args: [message, signature],
    });
  }

  const isAllowed = (id: bigint, who: Address, op: string, file: string) =>
    t.client.readContract({
      address: t.dataPermissions,
      abi,
      functionName: 'isAllowed',
      args: [id, who, op, fileIdToUint(file)],
    });

  it('maps file ids to uint256 and back', () => {
    const id = 'fil_0192a4c1e2f37b8c9d0e1f2a3b4c5d6e';
    assert.equal(fileIdToUint(id), 0x0192a4c1e2f37b8c9d0e1f2a3b4c5d6en);
    assert.equal(uintToFileId(fileIdToUint(id)), id);
    assert.equal(uintToFileId(1n), 'fil_00000000000000000000000000000001');
    assert.throws(() => fileIdToUint('fil_XYZ'));
    assert.throws(() => fileIdToUint('srv_0192a4c1e2f37b8c9d0e1f2a3b4c5d6e'));
    assert.throws(() => uintToFileId(1n << 128n));
  });

  it('adds a grant from the grantor signature relayed by someone else, with sequential ids and an event', async () => {
    const before = await t.client.readContract({
      address: t.dataPermissions,
      abi,
      functionName: 'grantCount',
    });
    const message = await grantMessage();
    const signature = await signGrant(grantor, message);
    const hash = await relayer.writeContract({
      address: t.dataPermissions,
      abi,
      functionName: 'addGrant',
      args: [message, signature],
    });
    const receipt = await mined(hash);
    const [ev] = parseEventLogs({ abi, logs: receipt.logs, eventName: 'GrantAdded' });
    assert.ok(ev);
    assert.equal(ev.args.grantId, before + 1n);
    assert.equal(ev.args.grantor, grantor.address);
    assert.equal(ev.args.grantee, grantee.address);
    assert.equal(ev.args.serverId, 'srv_test');
    const id = ev.args.grantId;
    assert.equal(await nonceOf(grantor.address), message.nonce + 1n);
    assert.equal(
      await t.client.readContract({ address: t.dataPermissions, abi, functionName: 'grantCount' }),
      id,
    );

    const g = await t.client.readContract({
      address: t.dataPermissions,
      abi,
      functionName: 'getGrant',
      args: [id],
    });
    assert.deepEqual(g, {
      grantor: grantor.address,
      grantee: grantee.address,
      serverId: 'srv_test',
      operations: ['summarize', 'sentiment'],
      fileIds: [fileIdToUint(fileA)],
      allFiles: false,
      expiresAt: 0n,
      revoked: false,
    });
    assert.equal(await isAllowed(id, grantee.address, 'summarize', fileA), true);
    assert.equal(await isAllowed(id, grantee.address, 'sentiment', fileA), true);
    // wrong grantee, wrong operation, wrong file, unknown grant
    assert.equal(await isAllowed(id, stranger.address, 'summarize', fileA), false);
    assert.equal(await isAllowed(id, grantee.address, 'keywords', fileA), false);
    assert.equal(await isAllowed(id, grantee.address, 'summarize', fileB), false);
    assert.equal(await isAllowed(id + 1000n, grantee.address, 'summarize', fileA), false);
    assert.equal(
      await revertName(
        t.client.readContract({
          address: t.dataPermissions,
          abi,
          functionName: 'getGrant',
          args: [id + 1000n],
        }),
      ),
      'GrantNotFound',
    );
  });

  it('rejects a replayed signature, a passed deadline, a stale nonce and a signature of someone else', async () => {
    const message = await grantMessage();
    const signature = await signGrant(grantor, message);
    await addGrant(message, signature);
    assert.equal(await revertName(simulateAdd(message, signature)), 'InvalidNonce');

    const late = await grantMessage({ deadline: (await latestTimestamp(t)) - 1n });
    assert.equal(await revertName(simulateAdd(late, await signGrant(grantor, late))), 'SignatureExpired');

    const stale = await grantMessage();
    const staleMsg = { ...stale, nonce: stale.nonce + 5n };
    assert.equal(await revertName(simulateAdd(staleMsg, await signGrant(grantor, staleMsg))), 'InvalidNonce');

    const forged = await grantMessage();
    assert.equal(
      await revertName(simulateAdd(forged, await signGrant(stranger, forged))),
      'InvalidSignature',
    );

    // A signature over different content (tampered operations) does not recover the grantor.
    const honest = await grantMessage();
    const sig = await signGrant(grantor, honest);
    assert.equal(await revertName(simulateAdd({ ...honest, operations: ['ask'] }, sig)), 'InvalidSignature');
  });

  it('rejects malleable (high-s) and malformed signatures', async () => {
    const message = await grantMessage();
    const signature = await signGrant(grantor, message);
    const n = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
    const r = signature.slice(2, 66);
    const s = BigInt(`0x${signature.slice(66, 130)}`);
    const v = Number.parseInt(signature.slice(130, 132), 16);
    const highS = (n - s).toString(16).padStart(64, '0');
    const flipped = (v === 27 ? 28 : 27).toString(16);
    const malleable = `0x${r}${highS}${flipped}` as Hex;
    assert.equal(await revertName(simulateAdd(message, malleable)), 'InvalidSignature');
    assert.equal(await revertName(simulateAdd(message, signature.slice(0, 130) as Hex)), 'InvalidSignature');
    assert.equal(
      await revertName(simulateAdd(message, `${signature.slice(0, 130)}1f` as Hex)),
      'InvalidSignature',
    );
    // the untouched signature is still good
    await simulateAdd(message, signature);
  });

  it('rejects grants that could never be used', async () => {
    const cases: [Partial<GrantMessage>, string][] = [
      [{ operations: [] }, 'NoOperations'],
      [{ fileIds: [], allFiles: false }, 'NoFiles'],
      [{ serverId: '' }, 'EmptyServerId'],
      [{ grantee: '0x0000000000000000000000000000000000000000' }, 'InvalidGrantee'],
      [{ expiresAt: 1n }, 'ExpiryInPast'],
    ];
    for (const [over, name] of cases) {
      const m = await grantMessage(over);
      assert.equal(await revertName(simulateAdd(m, await signGrant(grantor, m))), name, name);
    }
  });

  it('allFiles grants every file of the grant', async () => {
    const id = await grant({ allFiles: true, fileIds: [] });
    assert.equal(await isAllowed(id, grantee.address, 'summarize', fileA), true);
    assert.equal(await isAllowed(id, grantee.address, 'summarize', randomFileId()), true);
    assert.equal(await isAllowed(id, grantee.address, 'ask', fileA), false);
  });

  it('expires at expiresAt by block time', async () => {
    const id = await withinClockMargin(t, 30n, async (now) => {
      const granted = await grant({ expiresAt: now + 30n });
      assert.equal(await isAllowed(granted, grantee.address, 'summarize', fileA), true);
      return granted;
    });
    await advanceTime(t, 60);
    assert.equal(await isAllowed(id, grantee.address, 'summarize', fileA), false);
    const g = await t.client.readContract({
      address: t.dataPermissions,
      abi,
      functionName: 'getGrant',
      args: [id],
    });
    assert.equal(g.revoked, false);
  });

  it('revokes directly by the grantor only, once, with an event', async () => {
    const id = await grant();
    assert.equal(
      await revertName(
        t.client.simulateContract({
          account: stranger,
          address: t.dataPermissions,
          abi,
          functionName: 'revokeGrant',
          args: [id],
        }),
      ),
      'NotGrantor',
    );
    const hash = await walletFor(grantor).writeContract({
      address: t.dataPermissions,
      abi,
      functionName: 'revokeGrant',
      args: [id],
    });
    const receipt = await mined(hash);
    const [ev] = parseEventLogs({ abi, logs: receipt.logs, eventName: 'GrantRevoked' });
    assert.ok(ev);
    assert.equal(ev.args.grantId, id);
    assert.equal(ev.args.grantor, grantor.address);
    assert.equal(await isAllowed(id, grantee.address, 'summarize', fileA), false);
    const g = await t.client.readContract({
      address: t.dataPermissions,
      abi,
      functionName: 'getGrant',
      args: [id],
    });
    assert.equal(g.revoked, true);
    assert.equal(
      await revertName(
        t.client.simulateContract({
          account: grantor,
          address: t.dataPermissions,
          abi,
          functionName: 'revokeGrant',
          args: [id],
        }),
      ),
      'GrantAlreadyRevoked',
    );
    assert.equal(
      await revertName(
        t.client.simulateContract({
          account: grantor,
          address: t.dataPermissions,
          abi,
          functionName: 'revokeGrant',
          args: [999999n],
        }),
      ),
      'GrantNotFound',
    );
  });

  it('revokes by signature relayed by anyone; a replay and a stranger signature fail', async () => {
    const id = await grant();
    const now = await latestTimestamp(t);
    const message = {
      grantor: grantor.address,
      grantId: id,
      nonce: await nonceOf(grantor.address),
      deadline: now + 600n,
    };
    const sign = (who: PrivateKeyAccount, m: typeof message) =>
      who.signTypedData({
        domain: domain(),
        types: REVOKE_GRANT_TYPES,
        primaryType: 'RevokeGrant',
        message: m,
      });
    const simulate = (m: typeof message, sig: Hex) =>
      t.client.simulateContract({
        account: relayer.account,
        address: t.dataPermissions,
        abi,
        functionName: 'revokeGrantBySig',
        args: [m, sig],
      });

    assert.equal(await revertName(simulate(message, await sign(stranger, message))), 'InvalidSignature');
    const strangerClaim = { ...message, grantor: stranger.address, nonce: await nonceOf(stranger.address) };
    assert.equal(
      await revertName(simulate(strangerClaim, await sign(stranger, strangerClaim))),
      'NotGrantor',
    );
    const expired = { ...message, deadline: now - 1n };
    assert.equal(await revertName(simulate(expired, await sign(grantor, expired))), 'SignatureExpired');

    const signature = await sign(grantor, message);
    const receipt = await mined(
      await relayer.writeContract({
        address: t.dataPermissions,
        abi,
        functionName: 'revokeGrantBySig',
        args: [message, signature],
      }),
    );
    assert.equal(parseEventLogs({ abi, logs: receipt.logs, eventName: 'GrantRevoked' })[0]?.args.grantId, id);
    assert.equal(await isAllowed(id, grantee.address, 'summarize', fileA), false);
    assert.equal(await revertName(simulate(message, signature)), 'InvalidNonce');
  });

  it('binds signatures to this contract and chain (domain)', async () => {
    const receipt = await mined(await relayer.deployContract({ abi, bytecode }));
    const otherAddress = receipt.contractAddress;
    assert.ok(otherAddress);
    // Nonce 0 is current on the fresh deployment, so only the domain differs.
    const message = { ...(await grantMessage()), nonce: 0n };
    const signedForThis = await signGrant(grantor, message);
    const simulateOther = (sig: Hex) =>
      t.client.simulateContract({
        account: relayer.account,
        address: otherAddress,
        abi,
        functionName: 'addGrant',
        args: [message, sig],
      });
    assert.equal(await revertName(simulateOther(signedForThis)), 'InvalidSignature');
    const signedForOther = await grantor.signTypedData({
      domain: { ...domain(), verifyingContract: otherAddress },
      types: GRANT_TYPES,
      primaryType: 'Grant',
      message,
    });
    assert.equal(await revertName(simulateOther(signedForOther)), undefined);
    const current = await grantMessage();
    const otherChain = await grantor.signTypedData({
      domain: { ...domain(), chainId: 1 },
      types: GRANT_TYPES,
      primaryType: 'Grant',
      message: current,
    });
    assert.equal(await revertName(simulateAdd(current, otherChain)), 'InvalidSignature');
  });

  describe('Whitelist', () => {
    let whitelist: Address;
    const admin = devAccount(4);
    const app = devAccount(5);
    const newAdmin = devAccount(6);

    before(async () => {
      const hash = await relayer.deployContract({
        abi: whitelistAbi,
        bytecode: whitelistBytecode,
        args: [admin.address],
      });
      const receipt = await mined(hash);
      assert.ok(receipt.contractAddress);
      whitelist = receipt.contractAddress;
    });

    const authorized = (who: Address) =>
      t.client.readContract({
        address: whitelist,
        abi: whitelistAbi,
        functionName: 'authorized',
        args: [who],
      });
    const authorizedFile = (who: Address, file: bigint) =>
      t.client.readContract({
        address: whitelist,
        abi: whitelistAbi,
        functionName: 'authorized',
        args: [who, file],
      });

    it('has the constructor owner; only the owner adds and removes, with events', async () => {
      assert.equal(
        await t.client.readContract({ address: whitelist, abi: whitelistAbi, functionName: 'owner' }),
        admin.address,
      );
      assert.equal(
        await revertName(
          t.client.simulateContract({
            account: relayer.account,
            address: whitelist,
            abi: whitelistAbi,
            functionName: 'add',
            args: [app.address],
          }),
        ),
        'NotOwner',
      );
      const added = await mined(
        await walletFor(admin).writeContract({
          address: whitelist,
          abi: whitelistAbi,
          functionName: 'add',
          args: [app.address],
        }),
      );
      assert.equal(
        parseEventLogs({ abi: whitelistAbi, logs: added.logs, eventName: 'Added' })[0]?.args.account,
        app.address,
      );
      assert.equal(await authorized(app.address), true);
      assert.equal(await authorizedFile(app.address, 123n), true);
      assert.equal(await authorized(stranger.address), false);
      const removed = await mined(
        await walletFor(admin).writeContract({
          address: whitelist,
          abi: whitelistAbi,
          functionName: 'remove',
          args: [app.address],
        }),
      );
      assert.equal(
        parseEventLogs({ abi: whitelistAbi, logs: removed.logs, eventName: 'Removed' })[0]?.args.account,
        app.address,
      );
      assert.equal(await authorized(app.address), false);
      assert.equal(await authorizedFile(app.address, 123n), false);
    });

    it('applies owner-signed changes relayed by anyone, once; not after the owner changed', async () => {
      const wlDomain = {
        name: WHITELIST_DOMAIN_NAME,
        version: '1',
        chainId: t.chainId,
        verifyingContract: whitelist,
      };
      const nonce = async (a: Address) =>
        t.client.readContract({ address: whitelist, abi: whitelistAbi, functionName: 'nonces', args: [a] });
      const now = await latestTimestamp(t);
      const change: WhitelistChangeMessage = {
        owner: admin.address,
        account: app.address,
        add: true,
        nonce: await nonce(admin.address),
        deadline: now + 600n,
      };
      const sign = (who: PrivateKeyAccount, m: WhitelistChangeMessage) =>
        who.signTypedData({
          domain: wlDomain,
          types: WHITELIST_CHANGE_TYPES,
          primaryType: 'WhitelistChange',
          message: m,
        });
      const sim = (fn: 'addBySig' | 'removeBySig', m: WhitelistChangeMessage, sig: Hex) =>
        t.client.simulateContract({
          account: relayer.account,
          address: whitelist,
          abi: whitelistAbi,
          functionName: fn,
          args: [m, sig],
        });

      assert.equal(
        await revertName(sim('addBySig', change, await sign(stranger, change))),
        'InvalidSignature',
      );
      const sig = await sign(admin, change);
      assert.equal(await revertName(sim('removeBySig', change, sig)), 'InvalidSignature');
      await mined(
        await relayer.writeContract({
          address: whitelist,
          abi: whitelistAbi,
          functionName: 'addBySig',
          args: [change, sig],
        }),
      );
      assert.equal(await authorized(app.address), true);
      assert.equal(await revertName(sim('addBySig', change, sig)), 'InvalidNonce');

      const removal = { ...change, add: false, nonce: await nonce(admin.address) };
      const late = { ...removal, deadline: now - 1n };
      assert.equal(await revertName(sim('removeBySig', late, await sign(admin, late))), 'SignatureExpired');
      await mined(
        await relayer.writeContract({
          address: whitelist,
          abi: whitelistAbi,
          functionName: 'removeBySig',
          args: [removal, await sign(admin, removal)],
        }),
      );
      assert.equal(await authorized(app.address), false);

      // ownership moves: the old owner's signatures stop working, the new owner's work
      assert.equal(
        await revertName(
          t.client.simulateContract({
            account: stranger,
            address: whitelist,
            abi: whitelistAbi,
            functionName: 'transferOwnership',
            args: [newAdmin.address],
          }),
        ),
        'NotOwner',
      );
      const moved = await mined(
        await walletFor(admin).writeContract({
          address: whitelist,
          abi: whitelistAbi,
          functionName: 'transferOwnership',
          args: [newAdmin.address],
        }),
      );
      assert.equal(
        parseEventLogs({ abi: whitelistAbi, logs: moved.logs, eventName: 'OwnershipTransferred' })[0]?.args
          .newOwner,
        newAdmin.address,
      );
      assert.equal(
        await t.client.readContract({ address: whitelist, abi: whitelistAbi, functionName: 'owner' }),
        newAdmin.address,
      );
      const oldOwner = { ...change, nonce: await nonce(admin.address) };
      assert.equal(await revertName(sim('addBySig', oldOwner, await sign(admin, oldOwner))), 'NotOwner');
      const byNew = { ...change, owner: newAdmin.address, nonce: await nonce(newAdmin.address) };
      await mined(
        await relayer.writeContract({
          address: whitelist,
          abi: whitelistAbi,
          functionName: 'addBySig',
          args: [byNew, await sign(newAdmin, byNew)],
        }),
      );
      assert.equal(await authorized(app.address), true);
      assert.equal(
        await revertName(
          t.client.simulateContract({
            account: admin,
            address: whitelist,
            abi: whitelistAbi,
            functionName: 'remove',
            args: [app.address],
          }),
        ),
        'NotOwner',
      );
    });
  });
});
