import { z } from 'zod'

/**
 * The cleaning configuration: an ordered list of document rules, then the corpus stages
 * (deduplication, quality model). Every threshold has the published default of the
 * pipeline it comes from (docs/DATA.md lists the sources); a saved rule set stores only
 * what the user chose, and parsing fills in the rest.
 */

const fraction = z.number().min(0).max(1)
const positive = z.number().min(0)

export const noiseParams = z
  .object({
    /** `<[^>]+>` and HTML entities. */
    stripHtmlTags: z.boolean().default(true),
    /** `https?://\S+` and `www.` addresses. */
    stripUrls: z.boolean().default(true),
    /** `@name` handles (not e-mail addresses: those are PII's business). */
    stripMentions: z.boolean().default(true),
    /** Control and zero-width characters, U+FFFD, private use, runs of 4+ repeated symbols. */
    stripJunk: z.boolean().default(true),
    /** Runs of spaces to one, lines trimmed, at most one blank line in a row. */
    collapseWhitespace: z.boolean().default(true),
  })
  .strict()

export const unicodeParams = z
  .object({
    /** NFKC also folds compatibility forms (full-width letters, ligatures). */
    form: z.enum(['NFC', 'NFKC']).default('NFKC'),
  })
  .strict()

export const languageParams = z
  .object({
    /** ISO 639-1 codes to keep; empty keeps every language. */
    keep: z
      .array(
        z
          .string()
          .trim()
          .toLowerCase()
          .regex(/^[a-z]{2,3}$/, 'Use ISO 639-1 codes such as en, fr, zh.'),
      )
      .max(100)
      .default(['en']),
    /** eld's score of the top language (0..1); below it the detection is uncertain. */
    minScore: fraction.default(0.5),
    /** What to do when the language is uncertain (low score or too little text). */
    uncertain: z.enum(['review', 'remove', 'keep']).default('review'),
  })
  .strict()

export const gopherRepetitionParams = z
  .object({
    dupLineFrac: fraction.default(0.3),
    dupParaFrac: fraction.default(0.3),
    dupLineCharFrac: fraction.default(0.2),
    dupParaCharFrac: fraction.default(0.2),
    top2gramCharFrac: fraction.default(0.2),
    top3gramCharFrac: fraction.default(0.18),
    top4gramCharFrac: fraction.default(0.16),
    dup5gramCharFrac: fraction.default(0.15),
    dup6gramCharFrac: fraction.default(0.14),
    dup7gramCharFrac: fraction.default(0.13),
    dup8gramCharFrac: fraction.default(0.12),
    dup9gramCharFrac: fraction.default(0.11),
    dup10gramCharFrac: fraction.default(0.1),
  })
  .strict()

export const gopherQualityParams = z
  .object({
    minWords: z.int().min(0).default(50),
    maxWords: z.int().min(1).default(100_000),
    minMeanWordLength: positive.default(3),
    maxMeanWordLength: positive.default(10),
    /** `#` per word, and `...`/`…` per word. */
    maxSymbolWordRatio: positive.default(0.1),
    maxBulletLineRatio: fraction.default(0.9),
    maxEllipsisLineRatio: fraction.default(0.3),
    minAlphaWordRatio: fraction.default(0.8),
    /** Of {the, be, to, of, and, that, have, with}; English documents only. */
    minStopWords: z.int().min(0).default(2),
  })
  .strict()

export const c4Params = z
  .object({
    maxWordLength: z.int().min(1).default(1000),
    minWordsPerLine: z.int().min(0).default(3),
    /** C4 drops lines without terminal punctuation; FineWeb turns this off (its own check follows). */
    requireTerminalPunctuation: z.boolean().default(false),
    dropJavascriptLines: z.boolean().default(true),
    dropPolicyLines: z.boolean().default(true),
    stripCitations: z.boolean().default(true),
    removeLoremIpsum: z.boolean().default(true),
    removeCurlyBrace: z.boolean().default(true),
    minSentences: z.int().min(0).default(5),
  })
  .strict()

export const finewebParams = z
  .object({
    minTerminalLineRatio: fraction.default(0.12),
    maxShortLineRatio: fraction.default(0.67),
    shortLineLength: z.int().min(1).default(30),
    maxDupLineCharRatio: fraction.default(0.01),
    maxNewlinesPerWord: positive.default(0.3),
  })
  .strict()

export const heuristicsParams = z
  .object({
    maxNonAlphanumericRatio: fraction.default(0.25),
    maxDigitRatio: fraction.default(0.15),
    maxUrlRatio: fraction.default(0.2),
    maxWhitespaceRatio: fraction.default(0.25),
    maxBracketRatio: fraction.default(0.1),
    minUniqueLineRatio: fraction.default(0.7),
    maxWordLength: z.int().min(1).default(1000),
  })
  .strict()

export const blocklistParams = z
  .object({
    /** Words or phrases, matched case-insensitively on word boundaries. */
    words: z.array(z.string().trim().min(1).max(200)).max(10_000).default([]),
    action: z.enum(['remove', 'review', 'redact']).default('remove'),
  })
  .strict()

export const piiParams = z
  .object({
    email: z.boolean().default(true),
    phone: z.boolean().default(true),
    ip: z.boolean().default(true),
    creditCard: z.boolean().default(true),
    /** Remove documents with more than this many redactions; 0 never removes. */
    removeAboveHits: z.int().min(0).default(0),
  })
  .strict()

const rule = <I extends string, P extends z.ZodObject>(id: I, params: P, enabled = true) =>
  z
    .object({
      id: z.literal(id),
      enabled: z.boolean().default(enabled),
      params: params.prefault({} as z.input<P>),
    })
    .strict()

export const docRuleSchema = z.discriminatedUnion('id', [
  rule('noise', noiseParams),
  rule('unicode', unicodeParams),
  rule('language', languageParams),
  rule('gopher_repetition', gopherRepetitionParams),
  rule('gopher_quality', gopherQualityParams),
  rule('c4', c4Params),
  rule('fineweb_quality', finewebParams),
  rule('heuristics', heuristicsParams, false),
  rule('blocklist', blocklistParams),
  rule('pii', piiParams),
])
export type DocRule = z.infer<typeof docRuleSchema>
export type DocRuleId = DocRule['id']
export type RuleParams<I extends DocRuleId> = Extract<DocRule, { id: I }>['params']

/** The default order: text normalization first, then filters, PII last (as in datatrove). */
export const docRuleIds = [
  'noise',
  'unicode',
  'language',
  'gopher_repetition',
  'gopher_quality',
  'c4',
  'fineweb_quality',
  'heuristics',
  'blocklist',
  'pii',
] as const satisfies readonly DocRuleId[]

export const dedupParams = z
  .object({
    exact: z
      .object({ enabled: z.boolean().default(true) })
      .strict()
      .prefault({}),
    near: z
      .object({
        enabled: z.boolean().default(true),
        shingleWords: z.int().min(1).max(20).default(5),
        bands: z.int().min(1).max(32).default(14),
        rows: z.int().min(1).max(16).default(8),
        /** Candidates from LSH are merged only when their estimated Jaccard reaches this. */
        minSimilarity: fraction.default(0.72),
      })
      .strict()
      .prefault({}),
  })
  .strict()
export type DedupConfig = z.infer<typeof dedupParams>

export const qualityParams = z
  .object({
    enabled: z.boolean().default(true),
    /** Documents the rules kept whose score falls in [reviewLow, reviewHigh) go to review. */
    reviewLow: fraction.default(0.3),
    reviewHigh: fraction.default(0.6),
    /** Documents the rules kept that score below reviewLow. */
    belowBand: z.enum(['remove', 'review', 'keep']).default('remove'),
    /** Retrain on its own after this many new or changed labels; 0 only on request. */
    retrainEvery: z.int().min(0).max(10_000).default(20),
  })
  .strict()
  .refine((q) => q.reviewLow <= q.reviewHigh, {
    message: 'The lower edge of the review band must not exceed the upper edge.',
    path: ['reviewLow'],
  })
export type QualityConfig = z.infer<typeof qualityParams>

export const ruleSetSchema = z
  .object({
    rules: z
      .array(docRuleSchema)
      .max(docRuleIds.length)
      .refine((rules) => new Set(rules.map((r) => r.id)).size === rules.length, {
        message: 'Each rule may appear once.',
      })
      .default(() => docRuleIds.map((id) => docRuleSchema.parse({ id }))),
    dedup: dedupParams.prefault({}),
    quality: qualityParams.prefault({}),
  })
  .strict()
export type RuleSet = z.infer<typeof ruleSetSchema>
export type RuleSetInput = z.input<typeof ruleSetSchema>

/** The published defaults, in the default order. */
export function defaultRuleSet(): RuleSet {
  return ruleSetSchema.parse({})
}

/**
 * A rule set as saved, completed: rules it does not mention (saved by an older Frugal)
 * are appended, switched off, so a saved order is never silently changed.
 */
export function completeRuleSet(input: unknown): RuleSet {
  const parsed = ruleSetSchema.parse(input)
  const present = new Set(parsed.rules.map((r) => r.id))
  const missing = docRuleIds
    .filter((id) => !present.has(id))
    .map((id) => docRuleSchema.parse({ id, enabled: false }))
  return { ...parsed, rules: [...parsed.rules, ...missing] }
}

/** Every stage that can decide a document, for reasons and statistics. */
export const deciderIds = [...docRuleIds, 'dedup_exact', 'dedup_near', 'quality'] as const
export type DeciderId = (typeof deciderIds)[number]
