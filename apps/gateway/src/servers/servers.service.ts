import { outageProblem } from '../common/library-errors';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { MemberRepository, type Page, ServerRepository, type ServerEntity, toPage } from '@hearth/db';
import { ErrorCode } from '@hearth/errors';
import { isKeyManagerError, type KeyManager } from '@hearth/kms';
import type { SessionAccount } from '../auth/auth.types';
import { KEY_MANAGER } from '../keys/keys.module';
import { toServerView, type ServerView } from './server.view';

/** A member key already destroyed (a retried deletion) is what we want. */
function ignoreMissingKey(err: unknown): void {
  if (!isKeyManagerError(err, 'key_not_found') && !isKeyManagerError(err, 'key_destroyed')) throw err;
}

@Injectable()
export class ServersService {
  private readonly logger = new Logger('ServersService');

  constructor(
    private readonly servers: ServerRepository,
    private readonly members: MemberRepository, // collectives: the members' own keys
    @Inject(KEY_MANAGER) private readonly keys: KeyManager,
  ) {}

  async list(account: SessionAccount, page: { limit: number; cursor?: string }): Promise<Page<ServerView>> {
    const rows = await this.servers.listForAccount(account.accountId, account.address, page);
    return toPage(rows, page.limit, toServerView);
  }

  /**
   * Crypto-shredding: the tenant key goes first, so even if deleting the rows fails afterwards, nothing
   * of the server can be decrypted again. A key manager that cannot destroy the key leaves everything as it
   * was (503) for a retry.
   */
  async delete(server: ServerEntity): Promise<void> {
    // A collective's contributions are wrapped under each member's own key: shred those too.
    const memberKeys = server.kind === 'collective' ? await this.members.keyRefs(server.id) : [];
    try {
      for (const keyRef of memberKeys) await this.keys.destroyTenantKey(keyRef).catch(ignoreMissingKey);
      await this.keys.destroyTenantKey(server.kmsKeyRef);
    } catch (err) {
      if (!isKeyManagerError(err, 'key_not_found')) {
        this.logger.error(
          { tenantId: server.id, err: err instanceof Error ? err.message : String(err) },
          'tenant key destruction failed',
        );
        throw outageProblem(
          ErrorCode.key_manager_unavailable,
          'The key manager could not destroy the server key; try again',
        );
      }
    }
    await this.servers.delete(server.id);
    this.logger.log({ tenantId: server.id }, 'server deleted (tenant key destroyed)');
  }
}
