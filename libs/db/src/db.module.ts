import { type DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { HEARTH_CONFIG, type HearthConfig } from '@hearth/config';
import type { ObjectLiteral } from 'typeorm';
import { BLOB_STORE, blobStoreProvider } from './blob-store';
import { dataSourceOptions } from './data-source';
import { DatabaseHealth } from './health';

/** A repository class of libs/db: an injectable naming the entities whose TypeORM repositories it injects. */
export interface RepositoryClass {
  new (...args: never[]): unknown;
  readonly entities: ReadonlyArray<new () => ObjectLiteral>;
}

/**
 * The database of an app. `forRoot()` once per app: one TypeORM DataSource (TypeOrmModule.forRootAsync) built
 * from the validated config (HEARTH_CONFIG, which must be provided globally, e.g. by HearthConfigModule) on the
 * same `dataSourceOptions()` the migration CLI uses; destroyed at application shutdown. `forFeature([...])` in
 * each feature module: the repositories it uses, with TypeOrmModule.forFeature of their entities.
 */
@Module({})
export class DatabaseModule {
  static forRoot(): DynamicModule {
    return {
      module: DatabaseModule,
      global: true,
      imports: [
        TypeOrmModule.forRootAsync({
          inject: [HEARTH_CONFIG],
          useFactory: (config: HearthConfig) => ({
            ...dataSourceOptions({ url: config.DATABASE_URL, poolSize: config.DATABASE_POOL_SIZE }),
            // A database that is down at start fails the start at once, as any other dependency does (the
            // module's default is ten tries three seconds apart); orchestrators restart the process.
            toRetry: () => false,
          }),
        }),
      ],
      providers: [DatabaseHealth, blobStoreProvider],
      exports: [DatabaseHealth, BLOB_STORE],
    };
  }

  static forFeature(repositories: RepositoryClass[]): DynamicModule {
    const entities = [...new Set(repositories.flatMap((r) => r.entities))];
    return {
      module: DatabaseModule,
      imports: [TypeOrmModule.forFeature(entities)],
      providers: repositories,
      exports: repositories,
    };
  }
}
