/**
 * Plan checks for the medium tier and the benches: the statements a repository method really sends (captured
 * from TypeORM's logger, never copied into a test), their EXPLAIN as they run and as a prepared statement's
 * generic plan, and what a plan reads.
 */
import type { DataSource, Logger } from 'typeorm';

/** One statement as TypeORM sent it (statements run through `prepared()` go around TypeORM and are not seen). */
export interface Statement {
  query: string;
  parameters: unknown[];
}

/** A node of `EXPLAIN (FORMAT JSON)`. */
export interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Index Cond'?: string;
  'Scan Direction'?: string;
  Filter?: string;
  'Actual Loops'?: number;
  'Shared Hit Blocks'?: number;
  'Shared Read Blocks'?: number;
  Plans?: PlanNode[];
  [key: string]: unknown;
}

/** Runs `act` and returns what it resolved to and the statements TypeORM sent meanwhile, in order. */
export async function captureStatements<T>(
  ds: DataSource,
  act: () => Promise<T>,
): Promise<{ result: T; statements: Statement[] }> {
  const original = ds.logger;
  const statements: Statement[] = [];
  // Each method hands on to the data source's own logger, so logging stays as configured.
  const capture: Logger = {
    logQuery: (query: string, parameters?: unknown[], runner?) => {
      statements.push({ query, parameters: parameters ?? [] });
      original.logQuery(query, parameters, runner);
    },
    logQueryError: (error, query, parameters, runner) => {
      original.logQueryError(error, query, parameters, runner);
    },
    logQuerySlow: (time, query, parameters, runner) => {
      original.logQuerySlow(time, query, parameters, runner);
    },
    logSchemaBuild: (message, runner) => {
      original.logSchemaBuild(message, runner);
    },
    logMigration: (message, runner) => {
      original.logMigration(message, runner);
    },
    log: (level, message, runner) => {
      original.log(level, message, runner);
    },
  };
  ds.setOptions({ logger: capture });
  try {
    return { result: await act(), statements };
  } finally {
    ds.setOptions({ logger: original });
  }
}

/** A SQL literal for a statement's parameter (the values list pages take: text, numbers, null). */
function literal(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  if (typeof value === 'string') return `'${value.replace(/'/g, "''")}'`;
  throw new Error(`no literal for a parameter of type ${typeof value}`);
}

export interface ExplainOptions {
  /** Run it: actual rows, rows removed and buffers. */
  analyze?: boolean;
  /**
   * The generic plan a named prepared statement falls back to: planned without the parameters' values, so a
   * tenant's share of its table is taken as 1 / n_distinct of the tenant column. False: planned with the values,
   * as an unnamed statement is.
   */
  generic?: boolean;
  /**
   * Tables and columns whose statistics claim two distinct values (each tenant half the table: the statistics
   * under which walking another index and filtering looks cheapest), re-analyzed inside a transaction that is
   * rolled back afterwards, so no other session ever plans with them.
   */
  twoTenants?: Array<[table: string, column: string]>;
}

/** The plan of `statement`, planned the way it runs (or as a generic plan, under the statistics asked for). */
export async function explain(
  ds: DataSource,
  statement: Statement,
  options: ExplainOptions = {},
): Promise<PlanNode> {
  const what = options.analyze ? 'ANALYZE, BUFFERS, FORMAT JSON' : 'FORMAT JSON';
  type Explained = Array<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>;
  const skewed = options.twoTenants ?? [];
  if (!options.generic && !skewed.length) {
    const rows: Explained = await ds.query(`EXPLAIN (${what}) ${statement.query}`, statement.parameters);
    return rows[0]['QUERY PLAN'][0].Plan;
  }
  const runner = ds.createQueryRunner();
  await runner.connect();
  try {
    await runner.startTransaction();
    for (const [table, column] of skewed) {
      await runner.query(`ALTER TABLE ${table} ALTER COLUMN ${column} SET (n_distinct = 2)`);
    }
    if (skewed.length) await runner.query(`ANALYZE ${[...new Set(skewed.map(([t]) => t))].join(', ')}`);
    if (!options.generic) {
      const rows = (await runner.query(
        `EXPLAIN (${what}) ${statement.query}`,
        statement.parameters,
      )) as Explained;
      return rows[0]['QUERY PLAN'][0].Plan;
    }
    await runner.query('SET LOCAL plan_cache_mode = force_generic_plan');
    await runner.query(`PREPARE hearth_explained AS ${statement.query}`);
    const args = statement.parameters.length ? `(${statement.parameters.map(literal).join(', ')})` : '';
    const rows = (await runner.query(`EXPLAIN (${what}) EXECUTE hearth_explained${args}`)) as Explained;
    return rows[0]['QUERY PLAN'][0].Plan;
  } finally {
    await runner.rollbackTransaction();
    // Prepared statements belong to the session, not the transaction.
    await runner.query('DEALLOCATE ALL');
    await runner.release();
  }
}

/** Every node of the plan, depth first (init plans and subplans included). */
export function planNodes(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(planNodes)];
}

/** Shared buffers the run touched (hit + read), children included: the top node counts them all. */
export function planBuffers(plan: PlanNode): number {
  return (plan['Shared Hit Blocks'] ?? 0) + (plan['Shared Read Blocks'] ?? 0);
}

/** Rows any node read and then threw away (filters, join filters, rechecks), over all its loops. */
export function rowsRemoved(plan: PlanNode): number {
  return planNodes(plan).reduce((sum, node) => {
    const removed = Object.entries(node)
      .filter(([key]) => key.startsWith('Rows Removed by'))
      .reduce((n, [, value]) => n + Number(value), 0);
    return sum + removed * (node['Actual Loops'] ?? 1);
  }, 0);
}

interface IndexInfo {
  table: string;
  leading: string;
  primary: boolean;
}

async function indexInfo(ds: DataSource, name: string): Promise<IndexInfo> {
  const rows: Array<{ table: string; leading: string; primary: boolean }> = await ds.query(
    `SELECT t.relname AS table, a.attname AS leading, i.indisprimary AS primary
       FROM pg_index i
       JOIN pg_class t ON t.oid = i.indrelid
       JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
      WHERE i.indexrelid = $1::regclass`,
    [name],
  );
  if (!rows.length) throw new Error(`no index ${name}`);
  return rows[0];
}

/**
 * What keeps the plan from being a page of one tenant's rows only: for each table of `tenantColumns` (table →
 * the column naming the tenant), a sequential scan, or an index scan that does not seek on that column through
 * an index led by it. A primary-key lookup by id equality (one row per outer row, as a join fetching the page's
 * rows does) is fine. Empty when the plan is sound.
 */
export async function tenantPlanProblems(
  ds: DataSource,
  plan: PlanNode,
  tenantColumns: Record<string, string>,
): Promise<string[]> {
  const problems: string[] = [];
  for (const node of planNodes(plan)) {
    const relation = node['Relation Name'];
    if (node['Node Type'] === 'Seq Scan' && relation && relation in tenantColumns) {
      problems.push(`sequential scan of ${relation}`);
    }
    const indexName = node['Index Name'];
    if (!indexName) continue;
    const index = await indexInfo(ds, indexName);
    const tenant = tenantColumns[index.table];
    if (!tenant) continue;
    const cond = node['Index Cond'] ?? '';
    const pointLookup = index.primary && /^\((\w+\.)?id = [^<>]*\)$/.test(cond);
    const seeksTenant = index.leading === tenant && new RegExp(`\\b${tenant} = `).test(cond);
    if (!pointLookup && !seeksTenant) {
      problems.push(
        `${node['Node Type']} using ${indexName} (led by ${index.leading}) on ${index.table}` +
          ` with Index Cond ${cond || 'none'}${node.Filter ? `, Filter ${node.Filter}` : ''}`,
      );
    }
  }
  return problems;
}

/** The scans of a plan, one line each: how each table is reached (for a bench's report or a failing test). */
export function describeScans(plan: PlanNode): string[] {
  return planNodes(plan)
    .filter((node) => node['Relation Name'] || node['Index Name'])
    .map((node) =>
      [
        node['Node Type'],
        node['Scan Direction'] === 'Backward' ? '(backward)' : '',
        node['Index Name'] ? `using ${node['Index Name']}` : '',
        node['Relation Name'] ? `on ${node['Relation Name']}` : '',
        node['Index Cond'] ? `cond ${node['Index Cond']}` : '',
        node.Filter ? `filter ${node.Filter}` : '',
      ]
        .filter(Boolean)
        .join(' '),
    );
}
