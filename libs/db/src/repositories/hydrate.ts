import type { DataSource, EntityTarget, ObjectLiteral } from 'typeorm';

/**
 * An entity from a raw row holding its columns (SELECT or RETURNING `columnsOf()`): column names → properties,
 * with the driver's own value conversions. For hot paths written as plain SQL, where TypeORM's query builder cost
 * more than the query.
 */
export function hydrate<T extends ObjectLiteral>(
  dataSource: DataSource,
  target: EntityTarget<T>,
  row: Record<string, unknown>,
  /** The prefix its columns carry in the row (`columnsOf(…, alias, prefix)`), for rows joining several tables. */
  prefix = '',
): T {
  const metadata = dataSource.getMetadata(target);
  const entity = metadata.create() as T;
  for (const column of metadata.columns) {
    column.setEntityValue(
      entity,
      dataSource.driver.prepareHydratedValue(row[prefix + column.databaseName], column),
    );
  }
  return entity;
}
