import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

/** What health probes ask of Postgres. */
@Injectable()
export class DatabaseHealth {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Resolves once Postgres answered a trivial query on one of the pool's connections. */
  async ping(): Promise<void> {
    await this.dataSource.query('SELECT 1');
  }
}
