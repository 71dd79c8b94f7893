import {
  type DynamicModule,
  Global,
  Inject,
  Injectable,
  Module,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { DataSource } from 'typeorm';
import { createDataSource } from './data-source';

export const DB_URL = Symbol('DB_URL');

@Injectable()
class DataSourceCloser implements OnApplicationShutdown {
  constructor(@Inject(DataSource) private readonly ds: DataSource) {}
  async onApplicationShutdown(): Promise<void> {
    if (this.ds.isInitialized) await this.ds.destroy();
  }
}

/** Provides one initialised TypeORM DataSource to an app; repositories inject it. */
@Global()
@Module({})
export class DatabaseModule {
  static forRoot(opts: {
    url: string;
    poolSize?: number;
    repositories?: Array<new (...args: never[]) => unknown>;
  }): DynamicModule {
    const repositories = opts.repositories ?? [];
    return {
      module: DatabaseModule,
      providers: [
        {
          provide: DataSource,
          useFactory: async () => createDataSource(opts).initialize(),
        },
        DataSourceCloser,
        ...repositories,
      ],
      exports: [DataSource, ...repositories],
    };
  }
}
