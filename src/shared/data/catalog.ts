import type { DeciderId, DocRuleId } from './rules'

/** How the rule editor shows one parameter. Defaults come from the schema itself. */
export interface ParamSpec {
  key: string
  label: string
  kind: 'number' | 'integer' | 'boolean' | 'choice' | 'list'
  min?: number
  max?: number
  step?: number
  choices?: readonly string[]
  help?: string
}

export interface RuleInfo {
  title: string
  /** One sentence on what it does. */
  summary: string
  /** Where the defaults come from. */
  source: string
  params: readonly ParamSpec[]
}

const frac = (key: string, label: string, help?: string): ParamSpec => ({
  key,
  label,
  kind: 'number',
  min: 0,
  max: 1,
  step: 0.01,
  ...(help ? { help } : {}),
})
const flag = (key: string, label: string, help?: string): ParamSpec => ({
  key,
  label,
  kind: 'boolean',
  ...(help ? { help } : {}),
})

/** Titles, explanations and editable parameters of every document rule. */
export const ruleCatalog: Record<DocRuleId, RuleInfo> = {
  noise: {
    title: 'Noise stripping',
    summary:
      'Removes HTML tags and entities, URLs, @mentions and junk symbols; collapses whitespace.',
    source: 'Seed rule engine regexes',
    params: [
      flag('stripHtmlTags', 'HTML tags and entities'),
      flag('stripUrls', 'URLs'),
      flag('stripMentions', '@mentions'),
      flag(
        'stripJunk',
        'Junk symbols',
        'Control and zero-width characters, U+FFFD, runs of 4+ repeated symbols',
      ),
      flag('collapseWhitespace', 'Collapse whitespace'),
    ],
  },
  unicode: {
    title: 'Unicode normalization',
    summary: 'Normalizes to NFKC (or NFC) and unifies line endings.',
    source: 'Unicode TR15; NFKC as in CCNet and datatrove',
    params: [{ key: 'form', label: 'Form', kind: 'choice', choices: ['NFC', 'NFKC'] }],
  },
  language: {
    title: 'Language identification',
    summary: 'Detects the language (eld); removes languages outside the keep-list.',
    source: 'FineWeb keeps languages above a score threshold (fastText 0.65); eld scores differ',
    params: [
      {
        key: 'keep',
        label: 'Keep languages',
        kind: 'list',
        help: 'ISO 639-1 codes, comma separated; empty keeps all',
      },
      frac('minScore', 'Minimum score', "eld's score of the top language"),
      {
        key: 'uncertain',
        label: 'When uncertain',
        kind: 'choice',
        choices: ['review', 'remove', 'keep'],
      },
    ],
  },
  gopher_repetition: {
    title: 'Gopher repetition',
    summary: 'Removes documents with repeated lines, paragraphs or n-grams.',
    source: 'Gopher / MassiveText (Rae et al. 2021), datatrove defaults',
    params: [
      frac('dupLineFrac', 'Duplicate lines / lines'),
      frac('dupParaFrac', 'Duplicate paragraphs / paragraphs'),
      frac('dupLineCharFrac', 'Chars in duplicate lines'),
      frac('dupParaCharFrac', 'Chars in duplicate paragraphs'),
      frac('top2gramCharFrac', 'Top 2-gram chars'),
      frac('top3gramCharFrac', 'Top 3-gram chars'),
      frac('top4gramCharFrac', 'Top 4-gram chars'),
      frac('dup5gramCharFrac', 'Duplicated 5-gram chars'),
      frac('dup6gramCharFrac', 'Duplicated 6-gram chars'),
      frac('dup7gramCharFrac', 'Duplicated 7-gram chars'),
      frac('dup8gramCharFrac', 'Duplicated 8-gram chars'),
      frac('dup9gramCharFrac', 'Duplicated 9-gram chars'),
      frac('dup10gramCharFrac', 'Duplicated 10-gram chars'),
    ],
  },
  gopher_quality: {
    title: 'Gopher quality',
    summary:
      'Removes documents that are too short or long, symbol-heavy, bullet lists or stop-word-free.',
    source: 'Gopher / MassiveText (Rae et al. 2021), datatrove defaults',
    params: [
      { key: 'minWords', label: 'Minimum words', kind: 'integer', min: 0 },
      { key: 'maxWords', label: 'Maximum words', kind: 'integer', min: 1 },
      {
        key: 'minMeanWordLength',
        label: 'Min mean word length',
        kind: 'number',
        min: 0,
        step: 0.5,
      },
      {
        key: 'maxMeanWordLength',
        label: 'Max mean word length',
        kind: 'number',
        min: 0,
        step: 0.5,
      },
      {
        key: 'maxSymbolWordRatio',
        label: 'Max # or … per word',
        kind: 'number',
        min: 0,
        step: 0.01,
      },
      frac('maxBulletLineRatio', 'Max bullet lines'),
      frac('maxEllipsisLineRatio', 'Max lines ending in …'),
      frac('minAlphaWordRatio', 'Min words with a letter'),
      {
        key: 'minStopWords',
        label: 'Min stop words',
        kind: 'integer',
        min: 0,
        help: 'English documents only',
      },
    ],
  },
  c4: {
    title: 'C4 filters',
    summary:
      'Drops boilerplate lines (short, javascript, cookie and policy notices); removes lorem ipsum, code and short documents.',
    source: 'C4 (Raffel et al. 2020), datatrove defaults; terminal punctuation off as in FineWeb',
    params: [
      { key: 'maxWordLength', label: 'Max word length', kind: 'integer', min: 1 },
      { key: 'minWordsPerLine', label: 'Min words per line', kind: 'integer', min: 0 },
      flag('requireTerminalPunctuation', 'Lines need terminal punctuation'),
      flag('dropJavascriptLines', 'Drop "javascript" lines'),
      flag('dropPolicyLines', 'Drop cookie / policy lines'),
      flag('stripCitations', 'Strip [1], [edit], [citation needed]'),
      flag('removeLoremIpsum', 'Remove lorem ipsum documents'),
      flag('removeCurlyBrace', 'Remove documents with {'),
      { key: 'minSentences', label: 'Min sentences', kind: 'integer', min: 0 },
    ],
  },
  fineweb_quality: {
    title: 'FineWeb quality',
    summary: 'Removes list-like and duplicated-line documents.',
    source: 'FineWeb (Penedo et al. 2024), datatrove defaults',
    params: [
      frac('minTerminalLineRatio', 'Min lines ending in punctuation'),
      frac('maxShortLineRatio', 'Max short lines'),
      { key: 'shortLineLength', label: 'Short line length', kind: 'integer', min: 1 },
      frac('maxDupLineCharRatio', 'Max chars in duplicate lines'),
      {
        key: 'maxNewlinesPerWord',
        label: 'Max newlines per word',
        kind: 'number',
        min: 0,
        step: 0.01,
      },
    ],
  },
  heuristics: {
    title: 'Character heuristics',
    summary: 'Character-class ratios: symbols, digits, URLs, whitespace, brackets, unique lines.',
    source: 'NeMo Curator heuristic filter defaults',
    params: [
      frac('maxNonAlphanumericRatio', 'Max non-alphanumeric'),
      frac('maxDigitRatio', 'Max digits'),
      frac('maxUrlRatio', 'Max URL characters'),
      frac('maxWhitespaceRatio', 'Max whitespace'),
      frac('maxBracketRatio', 'Max brackets'),
      frac('minUniqueLineRatio', 'Min unique lines'),
      { key: 'maxWordLength', label: 'Max word length', kind: 'integer', min: 1 },
    ],
  },
  blocklist: {
    title: 'Blocklist',
    summary: 'Removes, flags or redacts documents containing listed words or phrases.',
    source: 'Your list (C4 used the LDNOOBW list)',
    params: [
      { key: 'words', label: 'Words and phrases', kind: 'list', help: 'Comma separated' },
      { key: 'action', label: 'Action', kind: 'choice', choices: ['remove', 'review', 'redact'] },
    ],
  },
  pii: {
    title: 'PII redaction',
    summary:
      'Replaces e-mails, phone numbers, global IPs and Luhn-valid card numbers with typed placeholders.',
    source: 'datatrove PIIFormatter; BigScience PII rules (ISBN/DOI context)',
    params: [
      flag('email', 'E-mail addresses'),
      flag('phone', 'Phone numbers'),
      flag('ip', 'IP addresses'),
      flag('creditCard', 'Credit card numbers'),
      {
        key: 'removeAboveHits',
        label: 'Remove above N hits',
        kind: 'integer',
        min: 0,
        help: '0 never removes',
      },
    ],
  },
}

export const dedupCatalog = {
  exact: {
    title: 'Exact duplicates',
    summary: 'Keeps one document per normalized-text hash.',
    source: 'Standard practice (C4, FineWeb)',
    params: [] as readonly ParamSpec[],
  },
  near: {
    title: 'Near duplicates (MinHash LSH)',
    summary: 'Clusters documents whose word 5-gram sets overlap; keeps the first of each cluster.',
    source: 'FineWeb: 5-word shingles, 14 bands x 8 rows',
    params: [
      { key: 'shingleWords', label: 'Words per shingle', kind: 'integer', min: 1, max: 20 },
      { key: 'bands', label: 'Bands', kind: 'integer', min: 1, max: 32 },
      { key: 'rows', label: 'Rows per band', kind: 'integer', min: 1, max: 16 },
      frac('minSimilarity', 'Min estimated Jaccard', 'Candidates below it are not merged'),
    ] as readonly ParamSpec[],
  },
}

export const qualityCatalog: RuleInfo = {
  title: 'Quality model',
  summary:
    'Logistic regression over hashed word n-grams and text statistics, trained on your labels (and, before you have any, on the rules’ decisions). Scores every document; the uncertain band goes to review.',
  source: 'Frugal',
  params: [
    frac('reviewLow', 'Review band from'),
    frac('reviewHigh', 'Review band to'),
    {
      key: 'belowBand',
      label: 'Below the band',
      kind: 'choice',
      choices: ['remove', 'review', 'keep'],
    },
    {
      key: 'retrainEvery',
      label: 'Retrain every N labels',
      kind: 'integer',
      min: 0,
      help: '0: only when asked',
    },
  ],
}

/** Readable names for every stage that can decide a document. */
export const deciderTitles: Record<DeciderId, string> = {
  ...(Object.fromEntries(
    Object.entries(ruleCatalog).map(([id, info]) => [id, info.title]),
  ) as Record<DocRuleId, string>),
  dedup_exact: 'Exact duplicate',
  dedup_near: 'Near duplicate',
  quality: 'Quality model',
}
