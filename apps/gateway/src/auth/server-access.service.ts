import { Injectable } from '@nestjs/common';
import { ServerRepository, type ServerRole } from '@hearth/db';
import type { ServerEntity } from '@hearth/db';
import { ProblemError } from '@hearth/errors';
import { isId } from '@hearth/ids';
import type { AuthenticatedApiKey, SessionAccount } from './auth.types';

/**
 * The tenant check every route with a server in its path makes before anything else (before validating the
 * body: a stranger learns nothing, not even which fields are wrong). A server the caller may not see is
 * 404, exactly like one that does not exist, and so is a malformed id.
 */
@Injectable()
export class ServerAccessService {
  constructor(private readonly servers: ServerRepository) {}

  /** The server, when the signed-in account owns it; otherwise 404. */
  async requireOwnedServer(account: SessionAccount, serverId: string): Promise<ServerEntity> {
    const found = await this.lookup(account, serverId);
    if (!found || found.role !== 'owner') throw notFound();
    return found.server;
  }

  /** The server and the caller's role, when the account owns it or is a member (collectives); otherwise 404. */
  async requireServerMember(
    account: SessionAccount,
    serverId: string,
  ): Promise<{ server: ServerEntity; role: ServerRole }> {
    const found = await this.lookup(account, serverId);
    if (!found) throw notFound();
    return found;
  }

  /** For API-key routes naming a server: the key's own server, otherwise 404. */
  requireApiKeyServer(key: AuthenticatedApiKey, serverId: string): void {
    if (key.serverId !== serverId) throw notFound();
  }

  private async lookup(account: SessionAccount, serverId: string) {
    if (!isId('srv', serverId)) return null;
    return this.servers.findWithRole(serverId, account.accountId, account.address);
  }
}

function notFound(): ProblemError {
  return ProblemError.notFound('server');
}
