import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** bench/corpus, from the compiled bench (dist/bench/lib). */
export const CORPUS = join(__dirname, '..', '..', '..', 'bench', 'corpus');

/** A WhatsApp export of `n` messages made of the corpus's own sentences, dated over three years. */
export function syntheticChat(n: number): string {
  const sentences = readFileSync(join(CORPUS, 'journal.md'), 'utf8')
    .split(/(?<=[.!?])\s+|\n+/)
    .map((s) => s.replace(/^#+\s*/, '').trim())
    .filter((s) => s.length > 20 && !/^\d{4}-|^\w+day|^\d{1,2} \w+ \d{4}/.test(s));
  const people = ['Leah', 'Sam', 'Priya', 'Tom', 'Rob', 'Aisha'];
  const lines: string[] = [];
  let t = Date.UTC(2021, 0, 1);
  for (let i = 0; i < n; i++) {
    t += 60_000 * (5 + ((i * 7919) % 600));
    const d = new Date(t);
    const dd = String(d.getUTCDate()).padStart(2, '0');
    const mm = String(d.getUTCMonth() + 1).padStart(2, '0');
    const hh = String(d.getUTCHours()).padStart(2, '0');
    const mi = String(d.getUTCMinutes()).padStart(2, '0');
    lines.push(
      `${dd}/${mm}/${d.getUTCFullYear()}, ${hh}:${mi} - ${people[i % people.length]}: ${sentences[(i * 31) % sentences.length]}`,
    );
  }
  return lines.join('\n');
}
