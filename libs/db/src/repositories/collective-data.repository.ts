import { Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { newId } from '@hearth/ids';
import { DataSource, Repository } from 'typeorm';
import { DatasetEntity } from '../entities/dataset.entity';
import { PrivacyBudgetEntity } from '../entities/privacy-budget.entity';
import { ServerEntity } from '../entities/server.entity';
import { hydrate } from './hydrate';
import { Params } from './internal/params';
import { columnsOf } from './prepared';

/** A collective's differential-privacy settings: both null when it is off. */
export interface PrivacySettings {
  /** ε each aggregate spends (decimal string). */
  epsilon: string | null;
  /** Total ε per app (decimal string). */
  budget: string | null;
}

/**
 * What a collective's aggregates run over (published datasets, the current contribution set) and its
 * differential-privacy settings and budgets. Every method names the server (tenant) first.
 */
@Injectable()
export class CollectiveDataRepository {
  static readonly entities = [DatasetEntity, PrivacyBudgetEntity, ServerEntity];

  private datasetColumns?: string;

  constructor(
    @InjectRepository(DatasetEntity) private readonly datasets: Repository<DatasetEntity>,
    @InjectRepository(PrivacyBudgetEntity) private readonly budgets: Repository<PrivacyBudgetEntity>,
    @InjectRepository(ServerEntity) private readonly servers: Repository<ServerEntity>,
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {}

  /**
   * Freezes the collective's current ready contributions as its next dataset version, in one statement (two
   * concurrent publishers cannot take the same version: the unique index refuses the second, which retries).
   */
  async publishDataset(serverId: string, createdBy: string): Promise<DatasetEntity> {
    this.datasetColumns ??= columnsOf(this.dataSource, DatasetEntity);
    for (let attempt = 0; ; attempt++) {
      try {
        const rows: Array<Record<string, unknown>> = await this.datasets.query(
          `INSERT INTO collective_datasets (id, server_id, version, file_ids, contributors, created_by)
           SELECT $1, $2,
                  coalesce((SELECT max(version) FROM collective_datasets WHERE server_id = $2), 0) + 1,
                  coalesce(array_agg(f.id ORDER BY f.id), '{}'), count(DISTINCT f.contributor_address), $3
             FROM files f WHERE f.server_id = $2 AND f.status = 'ready'
           RETURNING ${this.datasetColumns}`,
          [newId('dst'), serverId, createdBy.toLowerCase()],
        );
        return hydrate(this.dataSource, DatasetEntity, rows[0]);
      } catch (err) {
        if ((err as { code?: string }).code !== '23505' || attempt >= 3) throw err;
      }
    }
  }

  /**
   * The collective's datasets, newest version first, after `cursor` (a dataset id): up to `limit + 1` rows.
   * Served by the (server_id, version) unique index.
   */
  async listDatasets(serverId: string, page: { limit: number; cursor?: string }): Promise<DatasetEntity[]> {
    this.datasetColumns ??= columnsOf(this.dataSource, DatasetEntity);
    const p = new Params();
    const where = [`server_id = ${p.add(serverId)}`];
    if (page.cursor) {
      // The cursor is the last id of the previous page; its version is where this page starts.
      where.push(
        `version < (SELECT version FROM collective_datasets WHERE server_id = $1 AND id = ${p.add(page.cursor)})`,
      );
    }
    const rows: Array<Record<string, unknown>> = await this.datasets.query(
      `SELECT ${this.datasetColumns} FROM collective_datasets WHERE ${where.join(' AND ')}
        ORDER BY version DESC LIMIT ${p.add(page.limit + 1)}`,
      p.values,
    );
    return rows.map((row) => hydrate(this.dataSource, DatasetEntity, row));
  }

  findDataset(serverId: string, datasetId: string): Promise<DatasetEntity | null> {
    return this.datasets.findOneBy({ id: datasetId, serverId });
  }

  /**
   * The file ids an aggregate runs over: the dataset's, or every ready contribution now. Null when the dataset
   * is not the server's; 'retired' when a file of it is gone (its member was removed): running it again would
   * differ from the earlier runs by exactly that member's data.
   */
  async runFileIds(serverId: string, datasetId: string | null): Promise<string[] | 'retired' | null> {
    if (datasetId) {
      const rows: Array<{ frozen: number; present: string[] | null }> = await this.datasets.query(
        `SELECT cardinality(d.file_ids) AS frozen,
                (SELECT array_agg(f.id ORDER BY f.id) FROM files f
                  WHERE f.server_id = d.server_id AND f.id = ANY(d.file_ids) AND f.status = 'ready') AS present
           FROM collective_datasets d WHERE d.server_id = $1 AND d.id = $2`,
        [serverId, datasetId],
      );
      if (rows.length === 0) return null;
      const present = rows[0].present ?? [];
      return present.length === rows[0].frozen ? present : 'retired';
    }
    const rows: Array<{ id: string }> = await this.datasets.query(
      `SELECT id FROM files WHERE server_id = $1 AND status = 'ready' ORDER BY id`,
      [serverId],
    );
    return rows.map((r) => r.id);
  }

  /* ---------------- differential privacy ---------------- */

  async privacySettings(serverId: string): Promise<PrivacySettings> {
    const row = await this.servers.findOne({
      select: { privacyEpsilon: true, privacyBudget: true },
      where: { id: serverId },
    });
    return { epsilon: row?.privacyEpsilon ?? null, budget: row?.privacyBudget ?? null };
  }

  /** Sets (or, with nulls, turns off) the collective's ε per operation and total ε per app. */
  async setPrivacy(serverId: string, settings: PrivacySettings): Promise<void> {
    await this.servers.update(
      { id: serverId },
      { privacyEpsilon: settings.epsilon, privacyBudget: settings.budget },
    );
  }

  /** ε spent per app (lowercase address), apps that spent nothing absent; at most `limit` rows. */
  async spentByApp(serverId: string, limit: number): Promise<Array<{ appAddress: string; spent: string }>> {
    const rows = await this.budgets.find({
      select: { appAddress: true, spent: true },
      where: { serverId },
      order: { appAddress: 'ASC' },
      take: limit,
    });
    return rows.map((r) => ({ appAddress: r.appAddress, spent: r.spent }));
  }

  /** Whether the app could still spend `epsilon` (a check before running; the spend itself is atomic). */
  async canSpend(serverId: string, appAddress: string, epsilon: string, budget: string): Promise<boolean> {
    const rows: Array<{ ok: boolean }> = await this.budgets.query(
      `SELECT coalesce((SELECT spent FROM privacy_budgets WHERE server_id = $1 AND app_address = $2), 0)
                + $3::numeric <= $4::numeric AS ok`,
      [serverId, appAddress.toLowerCase(), epsilon, budget],
    );
    return rows[0].ok;
  }
}
