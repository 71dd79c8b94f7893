import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import type { BlobStore } from '@hearth/blobs';
import { DataSource, Repository } from 'typeorm';
import { BLOB_STORE } from '../blob-store';
import { FileEntity } from '../entities/file.entity';
import { MemberEntity, type MemberRole } from '../entities/member.entity';
import { hydrate } from './hydrate';
import { deleteFilesIn } from './internal/file-rows';
import { Params } from './internal/params';
import { isUniqueViolation } from './pg-errors';
import { columnsOf } from './prepared';

export interface NewMember {
  id: string;
  /** Any case; stored lowercase. */
  address: string;
  role: MemberRole;
  /** Key-manager reference of the member's own key. */
  kmsKeyRef: string | null;
}

/** Members of collective servers. Every method names the server (tenant) first. */
@Injectable()
export class MemberRepository {
  static readonly entities = [MemberEntity, FileEntity];

  private memberColumns?: string;

  constructor(
    @InjectRepository(MemberEntity) private readonly members: Repository<MemberEntity>,
    @InjectRepository(FileEntity) private readonly files: Repository<FileEntity>,
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(BLOB_STORE) private readonly blobs: BlobStore,
  ) {}

  /** The server's member with this address (any case), or null. */
  findByAddress(serverId: string, address: string): Promise<MemberEntity | null> {
    return this.members.findOneBy({ serverId, address: address.toLowerCase() });
  }

  exists(serverId: string, address: string): Promise<boolean> {
    return this.members.existsBy({ serverId, address: address.toLowerCase() });
  }

  /** Adds a member; null when the address already is one of the server's members (unique index). */
  async add(serverId: string, member: NewMember): Promise<MemberEntity | null> {
    try {
      await this.members.insert({ ...member, serverId, address: member.address.toLowerCase() });
    } catch (err) {
      if (isUniqueViolation(err)) return null;
      throw err;
    }
    return this.members.findOneByOrFail({ id: member.id, serverId });
  }

  /**
   * In id (joining) order after `cursor`: up to `limit + 1` rows (one more tells there is a next page). Ordered
   * and compared as `id COLLATE "C"`, an order only server_members_page_idx (server_id, id COLLATE "C") has: the
   * primary key cannot give it, so no plan walks every collective's members and filters out the others', whatever
   * the statistics say (docs/architecture.md#pages).
   */
  async list(serverId: string, page: { limit: number; cursor?: string }): Promise<MemberEntity[]> {
    this.memberColumns ??= columnsOf(this.dataSource, MemberEntity);
    const p = new Params();
    const where = [`server_id = ${p.add(serverId)}`];
    if (page.cursor) where.push(`id COLLATE "C" > ${p.add(page.cursor)}`);
    const rows: Array<Record<string, unknown>> = await this.members.query(
      `SELECT ${this.memberColumns} FROM server_members WHERE ${where.join(' AND ')}
        ORDER BY id COLLATE "C" LIMIT ${p.add(page.limit + 1)}`,
      p.values,
    );
    return rows.map((row) => hydrate(this.dataSource, MemberEntity, row));
  }

  /**
   * Per member address (lowercase): how many ready files they contributed and how many bytes, never which.
   * Members without contributions are absent. Served by files_contributor_page_idx.
   */
  async contributionTotals(
    serverId: string,
    addresses: readonly string[],
  ): Promise<Map<string, { files: number; bytes: string }>> {
    const rows: Array<{ address: string; files: number; bytes: string }> = await this.members.query(
      `SELECT contributor_address AS address, count(*)::int AS files, coalesce(sum(size), 0)::text AS bytes
         FROM files WHERE server_id = $1 AND status = 'ready' AND contributor_address = ANY($2::text[])
        GROUP BY contributor_address`,
      [serverId, addresses.map((a) => a.toLowerCase())],
    );
    return new Map(rows.map((r) => [r.address, { files: r.files, bytes: r.bytes }]));
  }

  /** The key-manager references of the server's members' own keys (to shred them with the server). */
  async keyRefs(serverId: string): Promise<string[]> {
    const rows = await this.members.find({ select: { kmsKeyRef: true }, where: { serverId } });
    return rows.flatMap((m) => (m.kmsKeyRef ? [m.kmsKeyRef] : []));
  }

  /**
   * One transaction: every file the member contributed (its chunks, then its row), then the membership.
   * Returns how many files went; 0 files and no change when the server has no such member.
   */
  async removeWithContributions(
    serverId: string,
    memberId: string,
  ): Promise<{ removedFiles: number } | null> {
    return this.dataSource.transaction(async (tx) => {
      const members = tx.withRepository(this.members);
      const member = await members.findOneBy({ id: memberId, serverId });
      if (!member) return null;
      const files = await tx
        .withRepository(this.files)
        .find({ select: { id: true }, where: { serverId, contributorAddress: member.address } });
      const removedFiles = await deleteFilesIn(
        tx,
        this.blobs,
        serverId,
        files.map((f) => f.id),
      );
      await members.delete({ id: member.id, serverId });
      return { removedFiles };
    });
  }
}
