import { appendFileSync, existsSync, readFileSync } from 'node:fs';

/** One scenario of the fault suite as its table prints it. */
export interface FaultRow {
  scenario: string;
  accepted: number;
  succeeded: number;
  /** Accepted operations that ended otherwise, by `status:code`. */
  failed: Record<string, number>;
  /** Accepted but not terminal after the recovery window, or not readable at all. */
  lost: number;
  /** Operations that ran (were logged or counted) more than once, or one request accepted twice. */
  duplicated: number;
  /** Responses 500–599 other than 503. */
  serverErrors: number;
  /** 503 responses (outages answered as outages). */
  unavailable: number;
  /** 503 answers without Retry-After or without a `*_unavailable` code. */
  badUnavailable: number;
  /** Children still alive 1 s after their worker exited. */
  orphans: number;
  seconds: number;
  notes: string[];
}

const HEADER = [
  'scenario',
  'accepted',
  'succeeded',
  'failed (by code)',
  'lost',
  'dup',
  '5xx≠503',
  '503',
  's',
];

function cells(row: FaultRow): string[] {
  const failed = Object.entries(row.failed)
    .sort(([, a], [, b]) => b - a)
    .map(([code, n]) => `${n} ${code}`)
    .join(', ');
  const total = Object.values(row.failed).reduce((a, b) => a + b, 0);
  return [
    row.scenario,
    String(row.accepted),
    String(row.succeeded),
    total ? `${total}: ${failed}` : '0',
    String(row.lost),
    String(row.duplicated),
    String(row.serverErrors),
    String(row.unavailable),
    String(Math.round(row.seconds)),
  ];
}

/** The rows as a Markdown table, their notes listed under it. */
export function formatFaultTable(rows: FaultRow[]): string {
  const lines = [HEADER, HEADER.map(() => '---'), ...rows.map(cells)].map((c) => `| ${c.join(' | ')} |`);
  const notes = rows.filter((r) => r.notes.length).map((r) => `- ${r.scenario}: ${r.notes.join('; ')}`);
  return [...lines, ...(notes.length ? ['', ...notes] : [])].join('\n');
}

/** Adds a row to the run's table file (one JSON row a line), which the test runner prints after the tier. */
export function appendFaultRow(file: string, row: FaultRow): void {
  appendFileSync(file, `${JSON.stringify(row)}\n`);
}

export function readFaultRows(file: string): FaultRow[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as FaultRow);
}
