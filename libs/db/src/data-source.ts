import { join } from 'node:path';
import { DataSource, type DataSourceOptions } from 'typeorm';

// Entities and migrations are found by glob over the compiled tree, so a feature adds a file, not a list entry.
const DIST_ROOT = join(__dirname, '..', '..', '..');

export function dataSourceOptions(opts: { url: string; poolSize?: number }): DataSourceOptions {
  return {
    type: 'postgres',
    url: opts.url,
    entities: [join(DIST_ROOT, 'libs/db/src/entities/*.entity.js')],
    migrations: [join(DIST_ROOT, 'migrations/*.js')],
    migrationsTableName: 'schema_migrations',
    synchronize: false,
    migrationsRun: false,
    logging: false,
    // A black-holed Postgres fails a request (a 503) instead of hanging it. It also bounds the wait for a free
    // pool connection, so it is generous: a busy pool is not an outage.
    extra: { max: opts.poolSize ?? 10, connectionTimeoutMillis: 30_000 },
  };
}

export function createDataSource(opts: { url: string; poolSize?: number }): DataSource {
  return new DataSource(dataSourceOptions(opts));
}
