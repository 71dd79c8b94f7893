import { Inject, Injectable, Logger } from '@nestjs/common';
import { generateIdentity } from '@hearth/crypto';
import { AccountRepository, type AccountEntity, ServerRepository, type ServerEntity } from '@hearth/db';
import { newId } from '@hearth/ids';
import type { KeyManager } from '@hearth/kms';
import { KEY_MANAGER } from '../keys/keys.module';
import { identityKeyContext } from '@hearth/blobs';

export const PERSONAL_SERVER_NAME = 'Personal server';

/**
 * Provisions an address's personal server at sign-in: the tenant key first (it lives outside Postgres),
 * then one transaction for account + server. When a concurrent sign-in of the same address wins the
 * unique index, the key made here is destroyed and the winner's server is used: idempotent under races.
 */
@Injectable()
export class ServerProvisioner {
  private readonly logger = new Logger('ServerProvisioner');

  constructor(
    private readonly accounts: AccountRepository,
    private readonly servers: ServerRepository,
    @Inject(KEY_MANAGER) private readonly keys: KeyManager,
  ) {}

  /** The account and personal server of `address` (any case), created when missing. */
  async ensurePersonalServer(address: string): Promise<{ account: AccountEntity; server: ServerEntity }> {
    const owner = address.toLowerCase();
    const existing = await this.findExisting(owner);
    if (existing) return existing;

    const serverId = newId('srv');
    const { keyRef } = await this.keys.createTenantKey(serverId);
    let created: { account: AccountEntity; server: ServerEntity } | null;
    try {
      const identity = generateIdentity();
      let wrapped: Buffer;
      try {
        wrapped = await this.keys.encrypt(keyRef, identity.privateKey, identityKeyContext(serverId));
      } finally {
        identity.privateKey.fill(0);
      }
      created = await this.servers.createPersonal(serverId, {
        accountId: newId('acc'),
        ownerAddress: owner,
        server: {
          name: PERSONAL_SERVER_NAME,
          kmsKeyRef: keyRef,
          address: identity.address.toLowerCase(),
          publicKey: identity.publicKey,
          wrappedIdentityKey: wrapped,
        },
      });
    } catch (err) {
      await this.discardKey(keyRef, serverId);
      throw err;
    }
    if (created) {
      this.logger.log({ tenantId: serverId }, 'personal server provisioned');
      return created;
    }
    // Lost the race: another sign-in of this address committed first.
    await this.discardKey(keyRef, serverId);
    const winner = await this.findExisting(owner);
    if (!winner) throw new Error('personal server vanished after a concurrent provisioning');
    return winner;
  }

  private async findExisting(
    owner: string,
  ): Promise<{ account: AccountEntity; server: ServerEntity } | null> {
    const account = await this.accounts.findByAddress(owner);
    if (!account) return null;
    const server = await this.servers.findPersonalByOwner(account.id);
    return server ? { account, server } : null;
  }

  private async discardKey(keyRef: string, serverId: string): Promise<void> {
    try {
      await this.keys.destroyTenantKey(keyRef);
    } catch (err) {
      // An orphaned key encrypts nothing stored; log it for the operator and go on.
      this.logger.warn(
        { tenantId: serverId, err: err instanceof Error ? err.message : String(err) },
        'could not destroy an unused tenant key',
      );
    }
  }
}
