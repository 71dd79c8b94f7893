/**
 * Aliases learned from the data: "my sister Leah", "Leah, my sister", "Leah (my sister)" teach that "sister"
 * means Leah, so "When did I last see my sister?" finds "dinner at Leah's flat".
 */

const RELATION_CANON: Record<string, string> = {
  sister: 'sister',
  sis: 'sister',
  brother: 'brother',
  bro: 'brother',
  mother: 'mother',
  mum: 'mother',
  mom: 'mother',
  mam: 'mother',
  mummy: 'mother',
  mommy: 'mother',
  father: 'father',
  dad: 'father',
  daddy: 'father',
  wife: 'wife',
  husband: 'husband',
  partner: 'partner',
  girlfriend: 'girlfriend',
  boyfriend: 'boyfriend',
  son: 'son',
  daughter: 'daughter',
  aunt: 'aunt',
  auntie: 'aunt',
  uncle: 'uncle',
  cousin: 'cousin',
  niece: 'niece',
  nephew: 'nephew',
  grandmother: 'grandmother',
  grandma: 'grandmother',
  gran: 'grandmother',
  granny: 'grandmother',
  nan: 'grandmother',
  grandfather: 'grandfather',
  grandpa: 'grandfather',
  grandad: 'grandfather',
  friend: 'friend',
  flatmate: 'flatmate',
  roommate: 'flatmate',
  housemate: 'flatmate',
  neighbour: 'neighbour',
  neighbor: 'neighbour',
  boss: 'boss',
  manager: 'boss',
  colleague: 'colleague',
  coworker: 'colleague',
  doctor: 'doctor',
  gp: 'doctor',
  dentist: 'dentist',
  therapist: 'therapist',
  landlord: 'landlord',
  teacher: 'teacher',
};

export function canonicalRelation(word: string): string | undefined {
  return RELATION_CANON[word.toLowerCase()];
}

/** Every word for the relation a word names ("mother" → mother, mum, mom…), for query expansion. */
export function relationSynonyms(word: string): string[] {
  const rel = canonicalRelation(word);
  if (!rel) return [];
  return Object.keys(RELATION_CANON).filter((w) => RELATION_CANON[w] === rel && w !== word.toLowerCase());
}

const REL = Object.keys(RELATION_CANON).join('|');
const NAME = "(\\p{Lu}[\\p{L}'-]{1,30})";
const PATTERNS = [
  // my sister Leah / my sister, Leah / my best friend Sam / my little brother Tom
  new RegExp(
    `\\bmy\\s+(?:(?:older|younger|little|big|best|old|new|twin|kid|baby)\\s+)?(${REL})(?:,)?\\s+${NAME}`,
    'giu',
  ),
  // Leah, my sister / Leah (my sister) / Leah — my sister
  new RegExp(
    `${NAME}\\s*(?:,|\\(|–|—|-)\\s*my\\s+(?:(?:older|younger|little|big|best|old|new|twin)\\s+)?(${REL})\\b`,
    'gu',
  ),
];

const NOT_NAMES = new Set([
  'The',
  'A',
  'An',
  'And',
  'But',
  'I',
  'We',
  'He',
  'She',
  'They',
  'It',
  'This',
  'That',
  'Then',
  'So',
  'My',
  'Our',
]);

export class AliasTable {
  private readonly byRelation = new Map<string, Map<string, number>>();

  learn(text: string): void {
    if (!/\bmy\s/i.test(text)) return;
    for (const [i, re] of PATTERNS.entries()) {
      re.lastIndex = 0;
      for (const m of text.matchAll(re)) {
        const [rel, name] = i === 0 ? [m[1], m[2]] : [m[2], m[1]];
        if (NOT_NAMES.has(name)) continue;
        // "my sister Leah" and also "my Sister" (case-insensitive REL) but never a lowercase word as the name.
        if (!/^\p{Lu}/u.test(name)) continue;
        this.add(canonicalRelation(rel) ?? rel.toLowerCase(), name);
      }
    }
  }

  add(relation: string, name: string, count = 1): void {
    let names = this.byRelation.get(relation);
    if (!names) this.byRelation.set(relation, (names = new Map<string, number>()));
    names.set(name, (names.get(name) ?? 0) + count);
  }

  merge(other: AliasTable): void {
    for (const [rel, names] of other.byRelation) for (const [name, n] of names) this.add(rel, name, n);
  }

  /** Names a relation word stands for, most attested first (at most 3). */
  namesFor(word: string): string[] {
    const rel = canonicalRelation(word);
    const names = rel ? this.byRelation.get(rel) : undefined;
    if (!names) return [];
    return [...names]
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .slice(0, 3)
      .map(([name]) => name);
  }

  toJSON(): [string, [string, number][]][] {
    return [...this.byRelation].map(([rel, names]) => [rel, [...names]]);
  }

  static fromJSON(value: unknown): AliasTable {
    const table = new AliasTable();
    if (!Array.isArray(value)) return table;
    for (const entry of value as [string, [string, number][]][]) {
      if (!Array.isArray(entry) || typeof entry[0] !== 'string' || !Array.isArray(entry[1])) continue;
      for (const [name, n] of entry[1])
        if (typeof name === 'string' && typeof n === 'number') table.add(entry[0], name, n);
    }
    return table;
  }
}
