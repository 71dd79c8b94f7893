/**
 * One fault scenario from start to table row: a fresh stack on disposable servers, tenants, the load, the fault,
 * the load a little longer, then every accepted operation polled to its end within the recovery window and
 * the disposable Postgres asked whether anything ran twice.
 */
import assert from 'node:assert/strict';
import { appendFaultRow, type FaultRow, formatFaultTable } from '../../../scripts/lib/fault-table';
import { diaryText, type Ending, Load, type LoadTenant, prepareTenants } from './load';
import { sleep } from './servers';
import { FaultStack, knob, type StackOptions } from './stack';

export interface ScenarioContext {
  stack: FaultStack;
  load: Load;
  tenants: LoadTenant[];
  /** Facts of this scenario for the table's notes. */
  notes: string[];
}

export interface ScenarioOptions extends StackOptions {
  /** Operations submitted per second during the load (FAULTS_OPS_PER_SECOND overrides). */
  opsPerSecond?: number;
  /** Size of each tenant's file, KiB. */
  fileKiB?: number;
  tenants?: number;
}

/** The recovery window: how long after the load every accepted operation has to end (FAULTS_RECOVERY_MS). */
export const RECOVERY_MS = knob('FAULTS_RECOVERY_MS', 120_000);
/** Load before the fault and after it (FAULTS_STEADY_MS). */
const STEADY_MS = knob('FAULTS_STEADY_MS', 10_000);

export async function runScenario(
  scenario: string,
  options: ScenarioOptions,
  fault: (ctx: ScenarioContext) => Promise<void>,
): Promise<FaultRow> {
  const started = Date.now();
  const stack = await FaultStack.start(scenario.replace(/[^a-z0-9]+/gi, '-').toLowerCase(), options);
  try {
    const tenants = await prepareTenants(stack, options.tenants ?? 2, diaryText(options.fileKiB ?? 24));
    const load = new Load(
      stack.gatewayUrl,
      tenants,
      knob('FAULTS_OPS_PER_SECOND', options.opsPerSecond ?? 2),
    );
    const notes: string[] = [];
    load.start();
    await sleep(STEADY_MS);
    try {
      await fault({ stack, load, tenants, notes });
      await sleep(STEADY_MS);
    } finally {
      await load.stop();
    }
    const endings = await load.settle(RECOVERY_MS);
    const row = await tally(scenario, stack, load, tenants, endings, notes);
    row.seconds = (Date.now() - started) / 1000;
    report(row);
    return row;
  } finally {
    await stack.stop();
  }
}

async function tally(
  scenario: string,
  stack: FaultStack,
  load: Load,
  tenants: LoadTenant[],
  endings: Ending[],
  notes: string[],
): Promise<FaultRow> {
  // The builtin operations are deterministic: every success on one tenant's file has the same result.
  const usual = new Map<number, string>();
  for (const [tenant, counts] of groupResults(endings)) {
    const [best] = [...counts].sort(([, a], [, b]) => b - a);
    if (best) usual.set(tenant, best[0]);
  }
  const failed: Record<string, number> = {};
  const lostAs: Record<string, number> = {};
  let succeeded = 0;
  const bump = (into: Record<string, number>, key: string) => (into[key] = (into[key] ?? 0) + 1);
  for (const e of endings) {
    const op = e.op;
    if (!op) bump(lostAs, e.unreadable ?? 'unreadable');
    else if (op.status === 'queued' || op.status === 'running') bump(lostAs, op.status);
    else if (op.status !== 'succeeded') bump(failed, `${op.status}:${op.error?.code ?? '?'}`);
    else if (op.result === undefined) bump(failed, 'succeeded:no_result');
    else if (!op.receipt) bump(failed, 'succeeded:no_receipt');
    else if (JSON.stringify(op.result) !== usual.get(e.tenant)) bump(failed, 'succeeded:other_result');
    else succeeded++;
  }
  const lost = Object.values(lostAs).reduce((a, b) => a + b, 0) + (load.accepted.size - endings.length);
  if (lost)
    notes.push(
      `lost as ${Object.entries(lostAs)
        .map(([k, n]) => `${n} ${k}`)
        .join(', ')}`,
    );

  const duplicates = await countDuplicates(stack, load, tenants, notes);
  if (load.serverErrorSamples.length) notes.push(`5xx≠503: ${load.serverErrorSamples.join(' · ')}`);
  if (load.badUnavailable) notes.push(`${load.badUnavailable} 503 without Retry-After or *_unavailable code`);
  const net = [...load.responses].filter(([k]) => k.endsWith(' net')).reduce((a, [, n]) => a + n, 0);
  if (net) notes.push(`${net} requests got no answer (connection error or 30 s timeout)`);
  if (load.notAccepted) notes.push(`${load.notAccepted} submissions never accepted after 5 tries`);
  if (stack.orphans) notes.push(`${stack.orphans} children outlived their worker by 1 s`);
  return {
    scenario,
    accepted: load.accepted.size,
    succeeded,
    failed,
    lost,
    duplicated: duplicates,
    serverErrors: load.serverErrors,
    unavailable: load.unavailable,
    badUnavailable: load.badUnavailable,
    orphans: stack.orphans,
    seconds: 0,
    notes,
  };
}

function groupResults(endings: Ending[]): Map<number, Map<string, number>> {
  const by = new Map<number, Map<string, number>>();
  for (const e of endings) {
    if (e.op?.status !== 'succeeded' || e.op.result === undefined) continue;
    const counts = by.get(e.tenant) ?? new Map<string, number>();
    const key = JSON.stringify(e.op.result);
    counts.set(key, (counts.get(key) ?? 0) + 1);
    by.set(e.tenant, counts);
  }
  return by;
}

/**
 * Operations that ran more than once, as the disposable Postgres records them: more than one access-log row
 * for an operation, usage counted more often than operations were logged, or one Idempotency-Key answered
 * with two operation ids.
 */
async function countDuplicates(
  stack: FaultStack,
  load: Load,
  tenants: LoadTenant[],
  notes: string[],
): Promise<number> {
  const keys = tenants.map((t) => t.app.keyId);
  const twice = await stack.query<{ operation_id: string; n: number }>(
    `SELECT operation_id, count(*)::int AS n FROM access_log
      WHERE api_key_id = ANY($1) AND operation_id IS NOT NULL GROUP BY operation_id HAVING count(*) > 1`,
    [keys],
  );
  const [{ logged, usage }] = await stack.query<{ logged: number; usage: number }>(
    `SELECT (SELECT count(DISTINCT operation_id)::int FROM access_log WHERE api_key_id = ANY($1)) AS logged,
            (SELECT coalesce(sum(operations), 0)::int FROM usage_daily WHERE api_key_id = ANY($1)) AS usage`,
    [keys],
  );
  const overCounted = Math.max(0, usage - logged);
  const twoIds = [...load.idsByKey.values()].filter((ids) => ids.size > 1).length;
  const [{ unlogged }] = await stack.query<{ unlogged: number }>(
    `SELECT count(*)::int AS unlogged FROM operations o
      WHERE o.id = ANY($1) AND o.status IN ('succeeded', 'failed', 'denied')
        AND NOT EXISTS (SELECT 1 FROM access_log a WHERE a.operation_id = o.id)`,
    [[...load.accepted.keys()]],
  );
  if (twice.length) notes.push(`${twice.length} operations with several access-log rows`);
  if (overCounted) notes.push(`usage counts ${usage} operations, the access log ${logged}`);
  if (twoIds) notes.push(`${twoIds} idempotency keys answered with two operation ids`);
  if (unlogged) notes.push(`${unlogged} ended operations without an access-log row`);
  return twice.length + overCounted + twoIds;
}

function report(row: FaultRow): void {
  process.stdout.write(`${formatFaultTable([row])}\n`);
  // why process.env: the test runner names the file it prints the whole table from after the tier.
  const file = process.env.FAULTS_TABLE_FILE;
  if (file) appendFaultRow(file, row);
}

/**
 * The suite's promise for every scenario: nothing accepted is lost or runs twice, outages are answered 503
 * (with Retry-After and a `*_unavailable` code), and at least `minSucceeded` of the accepted operations
 * succeed (1 by default: every fault here is shorter than the retry budget, so none may cost an operation).
 */
export function assertRow(row: FaultRow, opts: { minSucceeded?: number } = {}): void {
  const summary = formatFaultTable([row]);
  assert.ok(row.accepted > 0, `no operation was accepted at all\n${summary}`);
  assert.equal(row.lost, 0, `accepted operations were lost\n${summary}`);
  assert.equal(row.duplicated, 0, `operations ran more than once\n${summary}`);
  assert.equal(row.serverErrors, 0, `the gateway answered 5xx other than 503\n${summary}`);
  assert.equal(row.badUnavailable, 0, `503 answers lacked Retry-After or a *_unavailable code\n${summary}`);
  assert.equal(row.orphans, 0, `isolated children outlived their worker\n${summary}`);
  const minSucceeded = opts.minSucceeded ?? 1;
  assert.ok(
    row.succeeded >= Math.ceil(row.accepted * minSucceeded),
    `${row.succeeded} of ${row.accepted} succeeded (at least ${minSucceeded * 100}% must)\n${summary}`,
  );
}
