import { z } from 'zod';
import { InferenceError } from '../errors';
import { defineOperation, MiB, type OperationImpl } from '../operation';
import type { TextDocument } from '../text';
import { BUILTIN_ENGINE_VERSION, BUILTIN_MODEL } from './engine';
import { countWords, isContentWord } from './nlp';
import { analyse, analyseWords, documentSentiment, isKeyword, sentimentLabel } from './operations';

/**
 * Operations over a collective's pooled data. They return only counts over documents and
 * contributors, never text of one member, and release nothing unless at least `k` distinct
 * members contributed (to the whole result, and to each term or topic listed).
 */

const aggregateLimits = { maxInputBytes: 64 * MiB, maxOutputBytes: 256 * 1024, maxDocuments: 10_000 };

const aggregateIdentity = {
  engine: 'builtin' as const,
  aggregate: true,
  limits: aggregateLimits,
  available: () => true,
  model: () => BUILTIN_MODEL,
  engineVersion: () => BUILTIN_ENGINE_VERSION,
};

/** Distinct contributors; refuses input where any document lacks one or fewer than k contributed. */
export function checkContributors(docs: readonly TextDocument[], k: number): number {
  const contributors = new Set<string>();
  for (const d of docs) {
    if (d.contributor === undefined || d.contributor === '') {
      throw new InferenceError(
        'missing_contributor',
        `file ${d.fileId} has no contributor; aggregate operations need one per file`,
      );
    }
    contributors.add(d.contributor);
  }
  if (contributors.size < k) {
    throw new InferenceError(
      'below_k_threshold',
      `${contributors.size} contributor(s) in the input; at least ${k} are needed before aggregate results are released`,
    );
  }
  return contributors.size;
}

const noParams = z.object({}).strict();

const counts = defineOperation({
  ...aggregateIdentity,
  name: 'counts',
  version: '1.0.0',
  description: 'Number of documents, words, sentences and distinct contributors in the pooled data.',
  params: noParams,
  async run(_params, docs, ctx) {
    const contributors = checkContributors(docs, ctx.k);
    const analysed = await analyseWords(docs, ctx.signal);
    let words = 0;
    let sentences = 0;
    for (const a of analysed) {
      words += countWords(a.sentences);
      sentences += a.sentences.length;
    }
    return { documents: docs.length, words, sentences, contributors };
  },
} satisfies OperationImpl<z.infer<typeof noParams>>);

const sentimentDistribution = defineOperation({
  ...aggregateIdentity,
  name: 'sentiment_distribution',
  version: '1.0.0',
  description:
    'How many documents (and contributors, by the mean of their documents) are positive, neutral or negative.',
  params: noParams,
  async run(_params, docs, ctx) {
    const contributorCount = checkContributors(docs, ctx.k);
    const analysed = await analyse(docs, ctx.signal);
    const documents = { positive: 0, neutral: 0, negative: 0 };
    const byContributor = new Map<string, { sum: number; n: number }>();
    for (const { doc, sentences } of analysed) {
      const score = documentSentiment(sentences);
      documents[sentimentLabel(score)]++;
      const c = byContributor.get(doc.contributor!) ?? { sum: 0, n: 0 };
      c.sum += score;
      c.n++;
      byContributor.set(doc.contributor!, c);
    }
    const contributors = { positive: 0, neutral: 0, negative: 0 };
    for (const { sum, n } of byContributor.values()) contributors[sentimentLabel(sum / n)]++;
    return { documents, contributors, totals: { documents: docs.length, contributors: contributorCount } };
  },
} satisfies OperationImpl<z.infer<typeof noParams>>);

const topKeywordsParams = z
  .object({ top: z.number().int().min(1).max(100).default(20).describe('number of terms to return') })
  .strict();

const topKeywords = defineOperation({
  ...aggregateIdentity,
  name: 'top_keywords',
  version: '1.0.0',
  description:
    'Most widely used terms with the number of distinct contributors (and documents) using each; terms used by fewer than k contributors are dropped.',
  params: topKeywordsParams,
  async run(params, docs, ctx) {
    const contributors = checkContributors(docs, ctx.k);
    const analysed = await analyse(docs, ctx.signal);
    const terms = new Map<string, { contributors: Set<string>; documents: number }>();
    for (const { doc, sentences } of analysed) {
      const seen = new Set<string>();
      for (const s of sentences) for (const t of s.tokens) if (isKeyword(t)) seen.add(t.lemma);
      for (const term of seen) {
        const e = terms.get(term) ?? { contributors: new Set<string>(), documents: 0 };
        e.contributors.add(doc.contributor!);
        e.documents++;
        terms.set(term, e);
      }
    }
    const released = [...terms]
      .filter(([, e]) => e.contributors.size >= ctx.k)
      .map(([term, e]) => ({ term, contributors: e.contributors.size, documents: e.documents }))
      .sort(
        (a, b) => b.contributors - a.contributors || b.documents - a.documents || (a.term < b.term ? -1 : 1),
      )
      .slice(0, params.top);
    return { keywords: released, k: ctx.k, totals: { documents: docs.length, contributors } };
  },
} satisfies OperationImpl<z.infer<typeof topKeywordsParams>>);

/** Default topics, as lemmas (a token matches by lemma or by its lower-cased form). */
export const DEFAULT_TOPICS: Record<string, string[]> = {
  health: [
    'doctor',
    'dentist',
    'hospital',
    'health',
    'sick',
    'illness',
    'medicine',
    'pain',
    'therapy',
    'sleep',
    'headache',
    'clinic',
    'nurse',
    'symptom',
    'appointment',
  ],
  work: [
    'work',
    'job',
    'office',
    'meeting',
    'boss',
    'colleague',
    'project',
    'deadline',
    'client',
    'career',
    'manager',
    'team',
  ],
  family: [
    'family',
    'mother',
    'father',
    'mom',
    'mum',
    'dad',
    'sister',
    'brother',
    'son',
    'daughter',
    'kid',
    'child',
    'parent',
    'grandmother',
    'grandfather',
    'wife',
    'husband',
    'baby',
  ],
  money: [
    'money',
    'rent',
    'bill',
    'budget',
    'bank',
    'loan',
    'debt',
    'saving',
    'savings',
    'price',
    'expense',
    'salary',
    'mortgage',
    'tax',
  ],
  travel: [
    'travel',
    'trip',
    'flight',
    'airport',
    'train',
    'hotel',
    'vacation',
    'holiday',
    'journey',
    'passport',
    'beach',
  ],
  food: [
    'food',
    'dinner',
    'lunch',
    'breakfast',
    'cook',
    'recipe',
    'restaurant',
    'meal',
    'coffee',
    'eat',
    'kitchen',
  ],
  exercise: [
    'run',
    'gym',
    'exercise',
    'walk',
    'yoga',
    'swim',
    'bike',
    'workout',
    'hike',
    'training',
    'marathon',
  ],
  education: [
    'school',
    'class',
    'study',
    'exam',
    'teacher',
    'university',
    'course',
    'homework',
    'lecture',
    'student',
  ],
  home: [
    'home',
    'house',
    'apartment',
    'flat',
    'garden',
    'landlord',
    'neighbour',
    'neighbor',
    'repair',
    'furniture',
  ],
  social: ['friend', 'party', 'birthday', 'wedding', 'relationship', 'partner', 'date'],
};

const topicTerm = z
  .string()
  .min(1)
  .max(40)
  .regex(/^[\p{L}\p{N}'-]+$/u, 'a topic term is a single word');

const topicFrequenciesParams = z
  .object({
    topics: z
      .record(z.string().min(1).max(40), z.array(topicTerm).min(1).max(100))
      .refine((r) => Object.keys(r).length >= 1 && Object.keys(r).length <= 50, 'between 1 and 50 topics')
      .optional()
      .describe('topic name → single-word terms; default: a built-in set of everyday topics'),
  })
  .strict();

const topicFrequencies = defineOperation({
  ...aggregateIdentity,
  name: 'topic_frequencies',
  version: '1.0.0',
  description:
    'For each topic (a set of terms), how many documents and distinct contributors mention it; topics mentioned by fewer than k contributors are withheld.',
  params: topicFrequenciesParams,
  async run(params, docs, ctx) {
    const contributors = checkContributors(docs, ctx.k);
    const topics = Object.entries(params.topics ?? DEFAULT_TOPICS).map(([topic, words]) => ({
      topic,
      words: new Set(words.map((w) => w.toLowerCase())),
      documents: 0,
      contributors: new Set<string>(),
    }));
    const analysed = await analyse(docs, ctx.signal);
    for (const { doc, sentences } of analysed) {
      const present = new Set<string>();
      for (const s of sentences) {
        for (const t of s.tokens) {
          if (!isContentWord(t)) continue;
          present.add(t.lemma);
          present.add(t.normal);
        }
      }
      for (const topic of topics) {
        if ([...topic.words].some((w) => present.has(w))) {
          topic.documents++;
          topic.contributors.add(doc.contributor!);
        }
      }
    }
    const released = topics
      .filter((t) => t.contributors.size >= ctx.k)
      .map((t) => ({ topic: t.topic, documents: t.documents, contributors: t.contributors.size }))
      .sort(
        (a, b) =>
          b.contributors - a.contributors || b.documents - a.documents || (a.topic < b.topic ? -1 : 1),
      );
    return {
      topics: released,
      withheld: topics.length - released.length,
      k: ctx.k,
      totals: { documents: docs.length, contributors },
    };
  },
} satisfies OperationImpl<z.infer<typeof topicFrequenciesParams>>);

export const aggregateOperations: OperationImpl[] = [
  counts,
  sentimentDistribution,
  topKeywords,
  topicFrequencies,
];
