import { type DynamicModule, Global, Module } from '@nestjs/common';
import { HEARTH_CONFIG, type HearthConfig } from './index';

/**
 * Provides the validated configuration app-wide as HEARTH_CONFIG, so library modules (the database's
 * TypeOrmModule.forRootAsync among them) can be fed from it wherever they are imported.
 */
@Global()
@Module({})
export class HearthConfigModule {
  static forRoot(config: HearthConfig): DynamicModule {
    return {
      module: HearthConfigModule,
      providers: [{ provide: HEARTH_CONFIG, useValue: config }],
      exports: [HEARTH_CONFIG],
    };
  }
}
