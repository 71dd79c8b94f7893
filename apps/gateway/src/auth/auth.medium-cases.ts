import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ExecutionContext } from '@nestjs/common';
import { ServerRepository, SessionRepository } from '@hearth/db';
import { generatePrivateKey, type PrivateKeyAccount, privateKeyToAccount } from 'viem/accounts';
import { mediumGateway, type MediumGateway, type Tenant, problem } from '../../../../test/support/medium';
import { siweMessage } from '../../../../test/support/siwe';
import { AuthModule } from './auth.module';
import type { AuthedRequest } from './auth.types';
import { ServerAccessService } from './server-access.service';
import { SessionGuard } from './session.guard';
import { SiweService } from './siwe.service';
import { sha256 } from './tokens';

/** What SessionGuard sees of a request with this bearer token. */
function httpContext(token: string): { context: ExecutionContext; req: AuthedRequest } {
  const req = { headers: { authorization: `Bearer ${token}` } } as unknown as AuthedRequest;
  const context = { switchToHttp: () => ({ getRequest: () => req }) } as unknown as ExecutionContext;
  return { context, req };
}

describe('Sign-in, sessions and the tenant check (real Postgres and Redis)', () => {
  let gw: MediumGateway;
  let siwe: SiweService;
  let access: ServerAccessService;
  let guard: SessionGuard;

  before(async () => {
    gw = await mediumGateway({ imports: [AuthModule] });
    siwe = gw.get(SiweService);
    access = gw.get(ServerAccessService);
    guard = gw.get(SessionGuard);
  });
  after(() => gw.close());

  async function signIn(
    wallet: PrivateKeyAccount,
  ): Promise<{ token: string; message: string; signature: string }> {
    const message = siweMessage(wallet, await siwe.issueNonce());
    const signature = await wallet.signMessage({ message });
    const { token } = await siwe.signIn({ message, signature });
    return { token, message, signature };
  }

  it('signs in with a SIWE message: provisions the personal server once, and the session opens owner routes', async () => {
    const wallet = privateKeyToAccount(generatePrivateKey());
    const { token, message, signature } = await signIn(wallet);
    const session = await gw.get(SessionRepository).findActive(sha256(token));
    assert.equal(session?.address, wallet.address.toLowerCase());
    const { context, req } = httpContext(token);
    assert.equal(await guard.canActivate(context), true);
    assert.equal(req.hearthAccount?.address, wallet.address);
    const servers = gw.get(ServerRepository);
    const personal = await servers.findPersonalByOwner(session.accountId);
    assert.equal(personal?.ownerAddress, wallet.address.toLowerCase());
    // The nonce is single-use.
    const reused = await problem(siwe.signIn({ message, signature }));
    assert.deepEqual([reused.status, reused.code], [401, 'nonce_invalid']);
    // A second sign-in keeps the same server.
    await signIn(wallet);
    assert.equal((await servers.findPersonalByOwner(session.accountId))?.id, personal?.id);
  });

  it('refuses a signature of another wallet, and a signed-out session', async () => {
    const wallet = privateKeyToAccount(generatePrivateKey());
    const message = siweMessage(wallet, await siwe.issueNonce());
    const forged = await privateKeyToAccount(generatePrivateKey()).signMessage({ message });
    assert.deepEqual((await problem(siwe.signIn({ message, signature: forged }))).code, 'invalid_signature');
    const { token } = await signIn(wallet);
    const { req, context } = httpContext(token);
    await guard.canActivate(context);
    await siwe.signOut(req.hearthAccount!.accountId, req.hearthAccount!.sessionId);
    assert.equal((await problem(guard.canActivate(httpContext(token).context))).status, 401);
  });

  it("cross-tenant: another account's session neither signs A out nor reaches A's server", async () => {
    const [a, b]: Tenant[] = await Promise.all([gw.tenant(), gw.tenant()]);
    assert.equal((await access.requireOwnedServer(a.account, a.server.id)).id, a.server.id);
    assert.equal((await problem(access.requireOwnedServer(b.account, a.server.id))).status, 404);
    assert.equal((await problem(access.requireServerMember(b.account, a.server.id))).status, 404);
    assert.equal((await problem(access.requireOwnedServer(b.account, 'srv_malformed'))).status, 404);
    // A collective member has a role there, but does not own it.
    const collective = await gw.collective(a);
    await gw.member(collective, 'member', b);
    assert.equal((await access.requireServerMember(b.account, collective.id)).role, 'member');
    assert.equal((await problem(access.requireOwnedServer(b.account, collective.id))).status, 404);
    // Signing out with B's account and A's session id leaves A's session working.
    const walletA = privateKeyToAccount(generatePrivateKey());
    const { token } = await signIn(walletA);
    const { req, context } = httpContext(token);
    await guard.canActivate(context);
    await siwe.signOut(b.account.accountId, req.hearthAccount!.sessionId);
    assert.equal(await guard.canActivate(httpContext(token).context), true);
  });
});
