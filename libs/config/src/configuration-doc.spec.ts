import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { configVariables } from './index';

/**
 * docs/configuration.md's table lists exactly the schema's variables, one row each, with the schema's defaults.
 * The default column (the convention the doc states): a single code span is the literal default (`""` is the
 * empty string); `—` means none; `computed: …` describes a default loadConfig derives, and the schema then
 * declares none.
 */
const HEADER = '| variable | default | meaning |';

interface Row {
  line: number;
  name: string;
  /** The literal default, `null` for "none" or "computed". */
  literal: string | null;
  cell: string;
}

function findDoc(from: string): string {
  // Works from dist/libs/config/src and from libs/config/src.
  for (let dir = from; ; dir = dirname(dir)) {
    const doc = join(dir, 'docs', 'configuration.md');
    if (existsSync(doc) && existsSync(join(dir, 'package.json'))) return doc;
    if (dirname(dir) === dir) throw new Error(`no docs/configuration.md above ${from}`);
  }
}

/** Cells of a table row, split on `|` outside code spans and not escaped. */
function cells(line: string): string[] {
  const out: string[] = [];
  let cell = '';
  let inCode = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === '\\' && line[i + 1] === '|') {
      cell += '|';
      i++;
    } else if (c === '`') {
      inCode = !inCode;
      cell += c;
    } else if (c === '|' && !inCode) {
      out.push(cell.trim());
      cell = '';
    } else cell += c;
  }
  out.push(cell.trim());
  return out.slice(1, -1); // the text before the first and after the last `|`
}

function parseTable(markdown: string): Row[] {
  const lines = markdown.split('\n');
  const start = lines.findIndex((l) => l.trim() === HEADER);
  assert.ok(start >= 0, `docs/configuration.md has no table headed "${HEADER}"`);
  assert.match(
    lines[start + 1] ?? '',
    /^\|(\s*:?-+:?\s*\|){3}\s*$/,
    'the header is followed by |---|---|---|',
  );
  const rows: Row[] = [];
  for (let i = start + 2; i < lines.length && lines[i].trim().startsWith('|'); i++) {
    const [variable, defaultCell, meaning, ...extra] = cells(lines[i].trim());
    const where = `docs/configuration.md:${i + 1}`;
    assert.equal(extra.length, 0, `${where}: a row has three cells`);
    assert.ok(meaning, `${where}: the meaning is empty`);
    const name = /^`([A-Z][A-Z0-9_]*)`$/.exec(variable)?.[1];
    assert.ok(name, `${where}: the variable cell must be one variable in a code span, got ${variable}`);
    const literal = /^`([^`]+)`$/.exec(defaultCell)?.[1];
    assert.ok(
      literal !== undefined || /^(—|computed: )/.test(defaultCell),
      `${where}: the default of ${name} must be one code span, — or computed: …, got "${defaultCell}"`,
    );
    rows.push({
      line: i + 1,
      name,
      literal: literal === undefined ? null : literal === '""' ? '' : literal,
      cell: defaultCell,
    });
  }
  return rows;
}

describe('docs/configuration.md', () => {
  // Parsed inside each test, so a malformed table fails tests instead of stopping the file.
  const table = (): Row[] => parseTable(readFileSync(findDoc(__dirname), 'utf8'));
  const schema = configVariables();

  it('reads variables from the schema', () => {
    assert.ok(schema.length > 30);
    assert.deepEqual(
      schema.find((v) => v.name === 'PORT'),
      { name: 'PORT', default: '8080' },
    );
    assert.deepEqual(
      schema.find((v) => v.name === 'PUBLIC_URL'),
      { name: 'PUBLIC_URL', default: undefined },
    );
  });

  it('lists every variable once', () => {
    const rows = table();
    const seen = new Map<string, number>();
    for (const row of rows) {
      const before = seen.get(row.name);
      assert.equal(before, undefined, `${row.name} is listed twice (lines ${before} and ${row.line})`);
      seen.set(row.name, row.line);
    }
  });

  it('lists exactly the variables of the schema', () => {
    const rows = table();
    const documented = new Set(rows.map((r) => r.name));
    const read = new Set(schema.map((v) => v.name));
    const missing = [...read].filter((n) => !documented.has(n));
    const unknown = [...documented].filter((n) => !read.has(n));
    assert.deepEqual(missing, [], `in the schema, missing from docs/configuration.md: ${missing.join(', ')}`);
    assert.deepEqual(unknown, [], `in docs/configuration.md, not in the schema: ${unknown.join(', ')}`);
  });

  it('documents each schema default literally, and no default where the schema has none', () => {
    const byName = new Map(schema.map((v) => [v.name, v.default]));
    for (const row of table()) {
      if (!byName.has(row.name)) continue; // reported above
      const expected = byName.get(row.name);
      const where = `docs/configuration.md:${row.line}: ${row.name}`;
      if (expected === undefined) {
        assert.equal(
          row.literal,
          null,
          `${where}: the schema has no default, the doc says \`${row.literal}\` (write — or how it is computed)`,
        );
      } else {
        assert.equal(
          row.literal,
          expected,
          `${where}: the schema's default is \`${expected === '' ? '""' : expected}\`, the doc says ${row.cell}`,
        );
      }
    }
  });
});
