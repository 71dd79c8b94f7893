import { Injectable } from '@nestjs/common';
import { ErrorCode, ProblemError } from '@hearth/errors';
import { type GrantRecord, PermissionsError } from '@hearth/permissions';
import { getAddress } from 'viem';
import type { AuthenticatedApiKey } from '../auth/auth.types';
import { Chain } from '../chain/chain.module';
import { permissionsProblem } from '../common/library-errors';

/** What an operation request asks a grant to cover. */
export interface GrantNeed {
  operation: string;
  /** Files (personal) or the dataset (collective) named; empty on a collective = every contribution. */
  scopeIds: readonly string[];
  /** A collective's run over every current contribution: only an allFiles grant covers it. */
  requireAllFiles: boolean;
}

/** The grants that name an app (an API key's appAddress) on the key's server, as the chain has them now. */
@Injectable()
export class AppGrants {
  constructor(private readonly chain: Chain) {}

  async forKey(key: AuthenticatedApiKey): Promise<GrantRecord[]> {
    const relayer = this.chain.relayer;
    try {
      const all = await relayer.listGrants({
        grantor: getAddress(key.server.ownerAddress),
        serverId: key.serverId,
      });
      return all.filter((g) => getAddress(g.grantee) === getAddress(key.appAddress));
    } catch (err) {
      if (err instanceof PermissionsError) throw permissionsProblem(err, { retryAfterSeconds: 5 });
      throw err;
    }
  }

  /**
   * The one active grant of this app covering `need`: none is 403 permission_denied (no_covering_grant), several
   * 400 grant_ambiguous naming each candidate.
   */
  async pick(key: AuthenticatedApiKey, need: GrantNeed): Promise<string> {
    const candidates = (await this.forKey(key)).filter((g) => covers(g, need));
    if (candidates.length === 1) return candidates[0].grantId;
    if (candidates.length === 0) {
      throw new ProblemError(
        403,
        ErrorCode.permission_denied,
        'No active grant of this app covers this operation and these files',
        [
          {
            field: 'grantId',
            code: 'no_covering_grant',
            message: 'no active grant names this app, operation and every file (GET /v1/grants)',
          },
        ],
      );
    }
    throw new ProblemError(
      400,
      ErrorCode.grant_ambiguous,
      `${candidates.length} active grants cover this request: name one as grantId`,
      candidates.map((g) => ({ field: 'grantId', code: 'candidate', message: g.grantId })),
    );
  }
}

export function covers(g: GrantRecord, need: GrantNeed): boolean {
  if (g.status !== 'active' || !g.operations.includes(need.operation)) return false;
  if (g.allFiles) return true;
  if (need.requireAllFiles) return false;
  return need.scopeIds.every((id) => g.fileIds.includes(id));
}
