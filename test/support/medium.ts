/**
 * The medium tier's gateway setup: feature services in a Nest testing module on the run's real Postgres and
 * Redis (the gateway's own InfraModule, KeysModule, QuotasModule, ChainModule, AuthCoreModule and EventsModule), a local key manager in a
 * temporary directory of this process, the dev chain real unless a test overrides `Chain` or `KEY_MANAGER`; and
 * seeders for the tenants, collectives, members and API keys the specs act with.
 */
import 'reflect-metadata';
import assert from 'node:assert/strict';
import type { ModuleMetadata, Provider } from '@nestjs/common';
import { Test, type TestingModule, type TestingModuleBuilder } from '@nestjs/testing';
import { identityKeyContext } from '@hearth/blobs';
import { type HearthConfig, loadConfig } from '@hearth/config';
import { generateIdentity } from '@hearth/crypto';
import {
  ApiKeyRepository,
  MemberRepository,
  type MemberEntity,
  type MemberRole,
  type ServerEntity,
  ServerRepository,
  SessionRepository,
} from '@hearth/db';
import { ProblemError } from '@hearth/errors';
import { newId } from '@hearth/ids';
import type { KeyManager } from '@hearth/kms';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { getAddress } from 'viem';
import { generatePrivateKey, type PrivateKeyAccount, privateKeyToAccount } from 'viem/accounts';
import { AuthCoreModule } from '../../apps/gateway/src/auth/auth-core.module';
import type { AuthenticatedApiKey, SessionAccount } from '../../apps/gateway/src/auth/auth.types';
import { newApiKeySecret, sha256 } from '../../apps/gateway/src/auth/tokens';
import { ChainModule } from '../../apps/gateway/src/chain/chain.module';
import { EventsModule } from '../../apps/gateway/src/events/events.module';
import { memberKeyTenant } from '../../apps/gateway/src/collectives/collectives.service';
import { InfraModule } from '../../apps/gateway/src/infra/infra.module';
import { KEY_MANAGER, KeysModule } from '../../apps/gateway/src/keys/keys.module';
import { QuotasModule } from '../../apps/gateway/src/quotas/quotas.module';
import { ServerProvisioner } from '../../apps/gateway/src/servers/server-provisioner.service';
import { ServersModule } from '../../apps/gateway/src/servers/servers.module';
import { claimDevRelayerKey } from './relayer-key';

export {
  randomAddress,
  seedAccessLog,
  seedFile,
  seedOperation,
  seedUsage,
  tenantSnapshot,
} from '../../libs/db/src/testing';

// Each test file (its own process under node --test) gets its own queue namespace, as the e2e files do.
if (!process.env.QUEUE_PREFIX?.endsWith(`-${process.pid}`)) {
  process.env.QUEUE_PREFIX = `${process.env.QUEUE_PREFIX ?? 'hearth-test'}-${process.pid}`;
}

/**
 * Config from the run's environment (fresh database, Redis, dev chain), with a key store and master key of this
 * process only and a dev relayer account of its own, plus per-spec overrides.
 */
export function mediumConfig(overrides: Record<string, string> = {}): HearthConfig {
  const home = mkdtempSync(join(tmpdir(), 'hearth-medium-'));
  process.on('exit', () => rmSync(home, { recursive: true, force: true }));
  const relayer = claimDevRelayerKey();
  return loadConfig({
    ...process.env,
    PORT: '0',
    WORKER_HEALTH_PORT: '0',
    DATABASE_POOL_SIZE: '4',
    KEYSTORE_DIR: join(home, 'keystore'),
    HEARTH_MASTER_KEY: randomBytes(32).toString('hex'),
    ...(relayer ? { RELAYER_PRIVATE_KEY: relayer } : {}),
    ...overrides,
  });
}

export interface MediumOptions {
  /** The feature modules under test. */
  imports?: ModuleMetadata['imports'];
  providers?: Provider[];
  /** Settings for this spec (on top of mediumConfig's). */
  config?: Record<string, string>;
  /** Fakes for what the spec does not want real: `builder.overrideProvider(Chain).useValue(...)`. */
  override?: (builder: TestingModuleBuilder) => TestingModuleBuilder;
}

/** A signed-in owner: a wallet, its session account and its personal server (provisioned for real). */
export interface Tenant {
  wallet: PrivateKeyAccount;
  account: SessionAccount;
  server: ServerEntity;
}

export interface MediumGateway {
  module: TestingModule;
  config: HearthConfig;
  keys: KeyManager;
  /** For assertions on stored rows only; the code under test reaches data through repositories. */
  dataSource: DataSource;
  get<T>(token: (abstract new (...args: never[]) => T) | symbol): T;
  /** A new owner with their personal server (real provisioning: tenant key, identity, rows). */
  tenant(): Promise<Tenant>;
  /** A collective owned by `owner` (its own tenant key and identity; the owner is its admin, with a member key). */
  collective(owner: Tenant): Promise<ServerEntity>;
  /** Adds `who` (a new wallet by default) to a collective, with a member key of their own. */
  member(
    collective: ServerEntity,
    role?: MemberRole,
    who?: Tenant,
  ): Promise<{ member: MemberEntity; account: SessionAccount; wallet: PrivateKeyAccount }>;
  /** A live session of the account (a real row), as the hash of its bearer token. */
  session(account: SessionAccount): Promise<Buffer>;
  /** An API key of the server, as ApiKeyGuard hands it to app routes, with its secret. */
  apiKey(
    server: ServerEntity,
    extra?: { operations?: string[] },
  ): Promise<AuthenticatedApiKey & { secret: string }>;
  close(): Promise<void>;
}

function sessionAccount(accountId: string, address: string): SessionAccount {
  return { accountId, address: getAddress(address), sessionId: newId('ses') };
}

/** Builds and starts the testing module: the gateway's infrastructure modules plus the spec's. */
export async function mediumGateway(opts: MediumOptions = {}): Promise<MediumGateway> {
  const config = mediumConfig(opts.config);
  let builder = Test.createTestingModule({
    imports: [
      InfraModule.forRoot(config),
      KeysModule,
      QuotasModule,
      ChainModule,
      AuthCoreModule,
      EventsModule,
      ServersModule,
      ...(opts.imports ?? []),
    ],
    providers: opts.providers ?? [],
  });
  if (opts.override) builder = opts.override(builder);
  const module = await builder.compile();
  module.useLogger(false);
  await module.init();

  const get = <T>(token: (abstract new (...args: never[]) => T) | symbol): T => module.get<T>(token);
  const keys = module.get<KeyManager>(KEY_MANAGER);

  const tenant = async (): Promise<Tenant> => {
    const wallet = privateKeyToAccount(generatePrivateKey());
    const { account, server } = await module.get(ServerProvisioner).ensurePersonalServer(wallet.address);
    return { wallet, account: sessionAccount(account.id, account.address), server };
  };

  const collective = async (owner: Tenant): Promise<ServerEntity> => {
    const serverId = newId('srv');
    const memberId = newId('mem');
    const { keyRef } = await keys.createTenantKey(serverId);
    const { keyRef: memberKeyRef } = await keys.createTenantKey(memberKeyTenant(serverId, memberId));
    const identity = generateIdentity();
    const wrapped = await keys.encrypt(keyRef, identity.privateKey, identityKeyContext(serverId));
    return module.get(ServerRepository).createCollective(serverId, {
      ownerAccountId: owner.account.accountId,
      ownerAddress: owner.account.address.toLowerCase(),
      server: {
        name: 'test collective',
        kmsKeyRef: keyRef,
        address: identity.address.toLowerCase(),
        publicKey: identity.publicKey,
        wrappedIdentityKey: wrapped,
      },
      whitelistAddress: `0x${randomBytes(20).toString('hex')}`,
      kThreshold: 2,
      admin: { memberId, kmsKeyRef: memberKeyRef },
    });
  };

  const member: MediumGateway['member'] = async (server, role = 'member', who) => {
    const joining = who ?? (await tenant());
    const id = newId('mem');
    const { keyRef } = await keys.createTenantKey(memberKeyTenant(server.id, id));
    const added = await module.get(MemberRepository).add(server.id, {
      id,
      address: joining.account.address,
      role,
      kmsKeyRef: keyRef,
    });
    if (!added) throw new Error('already a member');
    return { member: added, account: joining.account, wallet: joining.wallet };
  };

  const apiKey: MediumGateway['apiKey'] = async (server, extra = {}) => {
    const secret = newApiKeySecret();
    const app = privateKeyToAccount(generatePrivateKey());
    const repo = module.get(ApiKeyRepository);
    await repo.create(server.id, {
      id: newId('key'),
      name: 'medium app',
      appAddress: app.address.toLowerCase(),
      secretHash: secret.hash,
      secretPrefix: secret.prefix,
      operations: extra.operations ?? null,
      origins: null,
      ratePerMinute: 600,
    });
    const match = await repo.findBySecretHash(sha256(secret.key));
    if (!match) throw new Error('the new key does not authenticate');
    return {
      id: match.key.id,
      serverId: match.key.serverId,
      name: match.key.name,
      appAddress: getAddress(match.key.appAddress),
      operations: match.key.operations,
      origins: match.key.origins,
      ratePerMinute: match.key.ratePerMinute,
      server: match.server,
      secret: secret.key,
    };
  };

  const session: MediumGateway['session'] = async (account) => {
    const tokenHash = randomBytes(32);
    await module.get(SessionRepository).create({
      id: newId('ses'),
      accountId: account.accountId,
      tokenHash,
      expiresAt: new Date(Date.now() + 3_600_000),
    });
    return tokenHash;
  };

  return {
    module,
    config,
    keys,
    session,
    dataSource: module.get(DataSource),
    get,
    tenant,
    collective,
    member,
    apiKey,
    close: () => module.close(),
  };
}

/** The ProblemError a call rejects with (fails the test when it resolves or throws something else). */
export async function problem(promise: Promise<unknown>): Promise<ProblemError> {
  const err = await promise.then(
    () => assert.fail('expected a problem'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof ProblemError, String(err));
  return err;
}
