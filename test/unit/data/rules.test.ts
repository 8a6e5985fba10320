import { describe, expect, it } from 'vitest'
import {
  completeRuleSet,
  defaultRuleSet,
  docRuleSchema,
  type DocRule,
} from '../../../src/shared/data/rules'
import { applyRules, rules } from '../../../src/worker/data/rules'
import { spacedWords } from '../../../src/worker/data/rules/c4'
import { collapseWhitespace } from '../../../src/worker/data/rules/noise'
import { findPii, isGlobalIPv4, isGlobalIPv6, luhnValid } from '../../../src/worker/data/rules/pii'
import { countNgrams, duplicatedNgramChars } from '../../../src/worker/data/rules/ngrams'
import { fnv32 } from '../../../src/worker/data/dedup/hash'
import { STOP_WORDS } from '../../../src/worker/data/rules/gopher-quality'
import { TextView } from '../../../src/worker/data/text/view'
import { takeDocs } from '../../helpers/synthetic-corpus'

const prose = `For almost two hundred years the lighthouse on the northern headland was kept by families who lived at its foot. The keeper climbed the spiral stairs at dusk to light the lamp and wrote the weather in a log book before dawn.

The work was lonely but rarely dull. Storms could break windows in the lamp room, and in thick fog the keeper had to sound the horn for a whole night. Supply boats came once a fortnight when the sea allowed it.

The light was automated in 1987, and the last keeper moved to the village with his wife. Today the cottages are a small museum, and visitors can climb the tower on summer weekends to see the great glass lens.`

const ctx = () => ({ language: 'en' as string | null, languageScore: 0.8 as number | null })
const run = <I extends DocRule['id']>(
  id: I,
  text: string,
  params: Partial<Extract<DocRule, { id: I }>['params']> = {},
) =>
  (
    rules[id] as (
      v: TextView,
      p: unknown,
      c: ReturnType<typeof ctx>,
    ) => ReturnType<(typeof rules)[I]>
  )(new TextView(text), docRuleSchema.parse({ id, params }).params, ctx())

/** `count` strings of 0..maxPieces random pieces each, the same every run (seeded LCG). */
function randomJoins(pieces: readonly string[], count: number, maxPieces: number, seed: number) {
  const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0)
  return Array.from({ length: count }, () =>
    Array.from({ length: next() % (maxPieces + 1) }, () => pieces[next() % pieces.length]).join(''),
  )
}

describe('rule set', () => {
  it('has the published defaults and fills in what a saved set leaves out', () => {
    const d = defaultRuleSet()
    expect(d.rules.map((r) => r.id)).toEqual([
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
    ])
    expect(d.dedup.near).toMatchObject({ bands: 14, rows: 8, shingleWords: 5 })
    const gq = d.rules.find((r) => r.id === 'gopher_quality')!
    expect(gq.params).toMatchObject({
      minWords: 50,
      maxWords: 100_000,
      minMeanWordLength: 3,
      minStopWords: 2,
    })
    const saved = completeRuleSet({ rules: [{ id: 'pii' }, { id: 'noise', enabled: false }] })
    expect(saved.rules.slice(0, 2).map((r) => [r.id, r.enabled])).toEqual([
      ['pii', true],
      ['noise', false],
    ])
    expect(saved.rules).toHaveLength(10)
    expect(saved.rules.find((r) => r.id === 'c4')?.enabled).toBe(false)
  })

  it('refuses a rule twice and a review band upside down', () => {
    expect(() => completeRuleSet({ rules: [{ id: 'pii' }, { id: 'pii' }] })).toThrow(/once/)
    expect(() => completeRuleSet({ quality: { reviewLow: 0.7, reviewHigh: 0.2 } })).toThrow()
  })
})

describe('noise stripping', () => {
  it('collapses whitespace exactly as the plain regex chain does', () => {
    // Every run to one space, spaces around line breaks dropped, at most one blank line.
    const reference = (text: string) =>
      text
        .replace(/\r\n?/g, '\n')
        .replace(/[ \t\f\v\u00A0\u2000-\u200A\u202F\u205F\u3000]+/g, ' ')
        .replace(/ *\n */g, '\n')
        .replace(/\n{3,}/g, '\n\n')
        .trim()
    const pieces = [
      ' ',
      '  ',
      '\t',
      '\n',
      '\r',
      '\r\n',
      '\u00a0',
      '\u2003',
      '\u3000',
      '\f',
      '\v',
      '\ufeff',
      '\u2028',
      '\u180e',
      'a',
      'bc',
      '.',
    ]
    // Each thing that needs collapsing, alone in otherwise clean text.
    const single = [
      'a \nb',
      'a\n b',
      'a\n\n\nb',
      ' a',
      'a ',
      '\na',
      'a\u2028',
      'a  b',
      'a\tb',
      'a\rb',
    ]
    const texts = [
      ...single,
      ...takeDocs(50, 3).map((d) => d.text),
      ...randomJoins(pieces, 5000, 23, 7),
    ]
    expect(single.every((t) => reference(t) !== t)).toBe(true)
    expect(texts.filter((t) => collapseWhitespace(t) !== reference(t))).toEqual([])
  })

  it('removes tags, entities, URLs, mentions and junk but leaves e-mail addresses for the PII rule', () => {
    const r = run(
      'noise',
      '<p>Hello&nbsp;<b>world</b> &amp; friends</p>\u200b see https://example.org/x?y=1 @alice ===== write to bob@example.org',
    )
    expect(r.action).toBe('modify')
    expect(r.text).toBe('Hello world & friends see write to bob@example.org')
    expect(r.outcome.measures).toMatchObject({ tags: 4, urls: 1, mentions: 1 })
  })

  it('keeps clean text as it is', () => {
    expect(run('noise', prose).action).toBe('keep')
  })

  it('finds runs of four repeated symbols where the regular expression test does', () => {
    // The rule's old pre-check, then its replacement (kept as they were).
    const test = /([^\w\s])\1{3}/
    const strip = (t: string) =>
      test.test(t) ? t.replace(/([^\p{L}\p{N}\p{M}\s])\1{3,}/gu, ' ') : t
    const pieces = [
      '=',
      '==',
      '.',
      '_',
      'a',
      '7',
      ' ',
      '\t',
      '\u3000',
      '★',
      '\ud83d',
      '-',
      '\u00a0',
    ]
    for (const text of randomJoins(pieces, 4000, 10, 13)) {
      const r = run('noise', text, { collapseWhitespace: false })
      expect(r.text ?? text, JSON.stringify(text)).toBe(strip(text))
    }
  })
})

describe('Gopher quality', () => {
  it('keeps ordinary prose and explains with measurements', () => {
    const r = run('gopher_quality', prose)
    expect(r.action).toBe('keep')
    expect(r.outcome.measures.words).toBeGreaterThan(50)
  })

  it('removes a document with too few words, naming the measurement and threshold', () => {
    const r = run('gopher_quality', 'Thanks for the update! See you tomorrow.')
    expect(r.action).toBe('remove')
    expect(r.outcome).toMatchObject({ check: 'min_words', value: 7, threshold: 50 })
    expect(r.outcome.note).toMatch(/7 words/)
  })

  it('removes symbol-heavy and stop-word-free text', () => {
    const hashes = Array.from({ length: 60 }, (_, i) => `#tag${i} word${i}`).join(' ')
    expect(run('gopher_quality', hashes).outcome.check).toBe('hash_ratio')
    const noStop = Array.from(
      { length: 80 },
      (_, i) => `keyword${i % 9} cheap watches online`,
    ).join(' ')
    expect(run('gopher_quality', noStop).outcome.check).toBe('stop_words')
  })

  it('counts stop words in any case, and only whole words of four letters or fewer', () => {
    const ascii = "The THE tHe theme With them BE be's to-be oF AND, That. HAVE"
    // The same words down the Unicode path, with a dotted capital I that is no "i".
    for (const text of [ascii, `${ascii} wİth`]) {
      const words = wordsOf(new TextView(text))
      const expected = words.filter((w) => w.length <= 4 && STOP_WORDS.has(w.toLowerCase()))
      expect(expected).toEqual(['The', 'THE', 'tHe', 'With', 'BE', 'oF', 'AND', 'That', 'HAVE'])
      expect(run('gopher_quality', text).outcome.measures.stopWords).toBe(9)
    }
  })
})

describe('Gopher repetition', () => {
  it('removes repeated lines and repeated n-grams', () => {
    const lines = Array.from(
      { length: 10 },
      () => 'Buy cheap watches online today with free shipping',
    ).join('\n')
    expect(run('gopher_repetition', lines)).toMatchObject({
      action: 'remove',
      outcome: { check: 'dup_line_frac' },
    })
    const ngrams = Array.from({ length: 30 }, (_, i) => `the best price for you ${i}`).join(' ')
    const r = run('gopher_repetition', ngrams)
    expect(r.action).toBe('remove')
    expect(r.outcome.check).toMatch(/top_\d_gram|duplicated_\d+_grams/)
  })

  it('keeps prose without repetition', () => {
    expect(run('gopher_repetition', prose).action).toBe('keep')
  })
})

describe('C4', () => {
  it('counts a line’s words and its longest word as split(/\\s+/) does', () => {
    const pieces = [
      ' ',
      '\t',
      '\v',
      '\f',
      '\r',
      '\u00a0',
      '\u2003',
      '\u3000',
      '\u2028',
      '\ufeff',
      '\u180e',
      'a',
      'bcd',
      'é',
      '😀',
      '.',
    ]
    for (const raw of randomJoins(pieces, 3000, 20, 11)) {
      const line = raw.trim()
      if (line === '') continue
      const words = line.split(/\s+/)
      expect(spacedWords(line), JSON.stringify(line)).toEqual({
        count: words.length,
        longest: Math.max(...words.map((w) => w.length)),
      })
    }
  })

  it('finds its phrases in any case, as lower-casing the line does', () => {
    const lines = [
      'We USE COOKIES to make this site work for you.',
      'Read our Privacy Policy before you sign up here.',
      // The Kelvin sign lower-cases to "k": still a cookie notice.
      'This site uses COO\u212aIES to remember you.',
      // A long s does not lower-case to "s": not one.
      'This site u\u017fes cookies to remember you.',
    ]
    const r = run('c4', [prose, ...lines].join('\n'))
    expect(r.outcome.measures.policy).toBe(3)
    expect(r.text).toContain('u\u017fes cookies')
  })

  it('drops cookie, javascript and short lines and strips citation markers', () => {
    const text = `${prose}\nThis site uses cookies to improve your experience.\nPlease enable JavaScript to view the comments.\nHome\nThe tower was painted white in 1901.[3][citation needed]`
    const r = run('c4', text)
    expect(r.action).toBe('modify')
    expect(r.text).not.toMatch(/cookies|JavaScript|^Home$|\[3\]|citation/m)
    expect(r.text).toContain('The tower was painted white in 1901.')
    expect(r.outcome.measures).toMatchObject({
      policy: 1,
      javascript: 1,
      fewWords: 1,
      citations: 1,
    })
  })

  it('removes lorem ipsum, code and documents with too few sentences', () => {
    expect(run('c4', `${prose}\nLorem ipsum dolor sit amet.`).outcome.check).toBe('lorem_ipsum')
    expect(run('c4', `${prose}\nconst x = { a: 1 } is how you write it.`).outcome.check).toBe(
      'curly_bracket',
    )
    expect(run('c4', 'One sentence only, and quite a short one.')).toMatchObject({
      action: 'remove',
      outcome: { check: 'min_sentences', value: 1, threshold: 5 },
    })
  })
})

describe('FineWeb quality', () => {
  it('removes lists of short lines and duplicated lines', () => {
    expect(run('fineweb_quality', 'Home\nAbout\nContact\nBlog\nShop\nLogin').outcome.check).toMatch(
      /line_punct_ratio|short_line_ratio/,
    )
    const dup = `${prose}\nRead more about this story.\nRead more about this story.`
    expect(run('fineweb_quality', dup).outcome.check).toBe('char_dup_ratio')
    expect(run('fineweb_quality', prose).action).toBe('keep')
  })
})

describe('language', () => {
  it('keeps listed languages and removes others with the detected language as the reason', () => {
    expect(run('language', prose).action).toBe('keep')
    const fr =
      'Le marché couvert de la ville a rouvert ses portes après deux ans de travaux. Les commerçants ont retrouvé leurs étals sous la grande charpente métallique, qui a été entièrement repeinte.'
    expect(run('language', fr)).toMatchObject({
      action: 'remove',
      outcome: { check: 'language', value: 'fr' },
    })
    expect(run('language', fr, { keep: ['en', 'fr'] }).action).toBe('keep')
  })

  it('sends text it cannot tell to review rather than deciding', () => {
    expect(run('language', '12 34 56 !!! ??')).toMatchObject({
      action: 'review',
      outcome: { check: 'language_score' },
    })
    expect(run('language', '12 34 56 !!! ??', { uncertain: 'keep' }).action).toBe('keep')
  })
})

describe('blocklist', () => {
  it('matches whole words case-insensitively, and redacts when asked', () => {
    const text = 'The Grapefruit diet is nonsense, said the doctor; grapes are fine.'
    expect(run('blocklist', text, { words: ['grapefruit'] })).toMatchObject({
      action: 'remove',
      outcome: { check: 'blocklist' },
    })
    expect(run('blocklist', text, { words: ['grape'] }).action).toBe('keep')
    const r = run('blocklist', text, { words: ['grapefruit diet'], action: 'redact' })
    expect(r.text).toBe('The <BLOCKED> is nonsense, said the doctor; grapes are fine.')
  })
})

describe('PII', () => {
  it('checks card numbers with Luhn and recognizes global addresses only', () => {
    expect(luhnValid('4111111111111111')).toBe(true)
    expect(luhnValid('4111111111111112')).toBe(false)
    expect(isGlobalIPv4('8.8.8.8')).toBe(true)
    for (const ip of [
      '10.1.2.3',
      '192.168.0.1',
      '127.0.0.1',
      '172.20.1.1',
      '169.254.1.1',
      '203.0.113.9',
    ])
      expect(isGlobalIPv4(ip), ip).toBe(false)
    expect(isGlobalIPv6('2a00:1450:4009:81f::200e')).toBe(true)
    for (const ip of ['::1', 'fe80::1', 'fd00::1', '2001:db8::1'])
      expect(isGlobalIPv6(ip), ip).toBe(false)
  })

  it('redacts e-mail, phone, IPs and cards with typed placeholders and exact spans', () => {
    const text = [
      'Write to jane.doe@mail.example.com or call +1 415 555 0199 today.',
      'Card 4111-1111-1111-1111 was declined; 4111-1111-1111-1112 is not a card.',
      'The server is 81.2.69.142, the router 192.168.1.1, and v6 is 2a00:1450:4009:81f::200e.',
    ].join('\n')
    const r = applyRules(text, [docRuleSchema.parse({ id: 'pii' })])
    expect(r.cleaned).toBe(
      [
        'Write to <EMAIL> or call <PHONE> today.',
        'Card <CREDIT_CARD> was declined; 4111-1111-1111-1112 is not a card.',
        'The server is <IP>, the router 192.168.1.1, and v6 is <IP>.',
      ].join('\n'),
    )
    expect(r.redactions.map((x) => [x.type, x.value])).toEqual([
      ['EMAIL', 'jane.doe@mail.example.com'],
      ['PHONE', '+1 415 555 0199'],
      ['CREDIT_CARD', '4111-1111-1111-1111'],
      ['IP', '81.2.69.142'],
      ['IP', '2a00:1450:4009:81f::200e'],
    ])
    for (const x of r.redactions) expect(r.cleaned.slice(x.start, x.end)).toBe(`<${x.type}>`)
  })

  it('leaves ISBN- and DOI-looking numbers, dates and version numbers alone', () => {
    const text = [
      'The guide is ISBN 978-0-306-40615-7 and ISBN-13: 9780306406157.',
      'See doi:10.1038/nphys1170 and DOI 10.1000/182 for the proof.',
      'Released on 2024-05-14 as version 1.2.3, issue #4415 5501 2231.',
    ].join('\n')
    expect(findPii(text, { email: true, phone: true, ip: true, creditCard: true })).toEqual([])
  })

  it('can remove documents with too many hits', () => {
    const text = Array.from({ length: 6 }, (_, i) => `user${i}@example.org`).join(', ')
    expect(run('pii', text, { removeAboveHits: 5 })).toMatchObject({
      action: 'remove',
      outcome: { check: 'pii_hits', value: 6 },
    })
  })
})

describe('the pipeline', () => {
  it('stops at the first removal and records what each rule measured', () => {
    const r = applyRules('Thanks! See you tomorrow.', defaultRuleSet().rules)
    expect(r.action).toBe('remove')
    const last = r.outcomes.at(-1)!
    expect(last.rule).toBe(r.decisionRule)
    expect(r.outcomes.every((o) => typeof o.measures === 'object')).toBe(true)
    expect(r.outcomes.map((o) => o.rule)).not.toContain('pii')
  })

  it('keeps good prose through every default rule, and disabled rules do not run', () => {
    const set = defaultRuleSet()
    const r = applyRules(prose, set.rules)
    expect(r).toMatchObject({ action: 'keep', decisionRule: null, language: 'en', modified: false })
    expect(r.outcomes.map((o) => o.rule)).not.toContain('heuristics')
  })
})

/** A view's words as strings, from its word stats. */
function wordsOf(view: TextView): string[] {
  const { source, starts, lengths } = view.wordStats
  return Array.from(starts, (start, i) => source.slice(start, start + lengths[i]))
}

describe('text views', () => {
  const samples = [
    prose,
    "Don't e-mail 3.14 people -- at 09:30!!! (see p. 12) ...and well-known x.y.z's [1]",
    'tabs\tand\r\nCRLF lines, @mention #tag $5.99 50% a_b snake_case URL http://x.org/a?b=1',
    // Joiners at the edges, doubled, before punctuation; control characters.
    "-a b- c--d e-.f g.h. 'i j' k'l'm \u0000n\u0001 \u000bo\u000cp\u001fq ...",
    ...randomJoins(
      [' ', '\n', '\t', 'a', 'Zq', '7', '-', "'", '.', '!', '#', '\u0000'],
      3000,
      12,
      5,
    ),
  ]

  it('tokenizes ASCII text on its hand-written scan exactly as the Unicode path does', () => {
    for (const text of samples) {
      const fast = new TextView(text)
      // A trailing non-ASCII word sends the same text down the regular-expression path.
      const slow = new TextView(`${text} é`)
      expect(fast.ascii).toBe(true)
      expect(slow.ascii).toBe(false)
      const f = fast.wordStats
      const s = slow.wordStats
      const label = JSON.stringify(text)
      expect(Array.from(f.ids), label).toEqual(Array.from(s.ids.subarray(0, -1)))
      expect(Array.from(f.starts), label).toEqual(Array.from(s.starts.subarray(0, -1)))
      expect(Array.from(f.lengths), label).toEqual(Array.from(s.lengths.subarray(0, -1)))
      expect([f.tokens, f.alphaTokens], label).toEqual([s.tokens - 1, s.alphaTokens - 1])
      expect(Math.max(1, f.longestToken), label).toBe(s.longestToken)
    }
  })

  it('gives each word the fnv32 of its text and counts tokens as the token pattern splits them', () => {
    const tokenRe = /[\p{L}\p{M}\p{N}]+(?:[-'’.][\p{L}\p{M}\p{N}]+)*|[^\s\p{L}\p{M}\p{N}]+/gu
    for (const text of [...samples.slice(0, 4), 'Ça va, l’école; 3,5 km — très bien…']) {
      const view = new TextView(text)
      const tokens = text.match(tokenRe) ?? []
      const words = tokens.filter((t) => /^[\p{L}\p{M}\p{N}]/u.test(t))
      expect(wordsOf(view)).toEqual(words)
      expect(Array.from(view.wordStats.ids)).toEqual(words.map(fnv32))
      expect(view.wordStats.tokens).toBe(tokens.length)
      expect(view.wordStats.alphaTokens).toBe(tokens.filter((t) => /\p{L}/u.test(t)).length)
      expect(view.wordStats.longestToken).toBe(Math.max(0, ...tokens.map((t) => t.length)))
    }
  })

  it('sets CJK characters apart as words of their own', () => {
    const view = new TextView('日本語のテキスト, and English.')
    expect(wordsOf(view)).toEqual([
      '日',
      '本',
      '語',
      'の',
      'テ',
      'キ',
      'ス',
      'ト',
      'and',
      'English',
    ])
  })
})

describe('n-gram repetition', () => {
  /** datatrove's find_all_duplicate over word strings (joined with a separator, so words stay words). */
  function referenceDuplicated(words: string[], n: number): number {
    const seen = new Set<string>()
    let chars = 0
    let i = 0
    while (i < words.length - n + 1) {
      const gram = words.slice(i, i + n)
      const key = gram.join('\u0000')
      if (seen.has(key)) {
        chars += gram.join('').length
        i += n
      } else {
        seen.add(key)
        i++
      }
    }
    return chars
  }
  /** The most frequent n-gram's count times its characters (joined by spaces), from word strings. */
  function referenceTop(words: string[], n: number): number {
    const counts = new Map<string, number>()
    let best = 0
    let bestChars = 0
    for (let i = 0; i + n <= words.length; i++) {
      const key = words.slice(i, i + n).join('\u0000')
      const count = (counts.get(key) ?? 0) + 1
      counts.set(key, count)
      if (count > best) {
        best = count
        bestChars = words.slice(i, i + n).join(' ').length
      }
    }
    return best < 2 ? 0 : best * bestChars
  }

  it('counts repeated n-grams as datatrove does, skipping only positions that cannot repeat', () => {
    const docs = takeDocs(300).map((d) => wordsOf(new TextView(d.text)))
    docs.push('a b c d e a b c d e a b c d e f'.split(' '), 'x y'.split(' '), [])
    let repeatedDocs = 0
    for (const words of docs) {
      const ids = Int32Array.from(words, (w) => fnv32(w))
      const lengths = Int32Array.from(words, (w) => w.length)
      // The rule's cascade (each length counted where the previous repeats) against
      // each length counted everywhere.
      const levels = new Uint8Array(ids.length)
      for (let n = 2; n <= 5; n++) {
        const full = new Uint8Array(ids.length)
        const counted = countNgrams(ids, lengths, n, full, false)
        expect(countNgrams(ids, lengths, n, levels, n > 2)).toEqual(counted)
        expect(counted.top).toBe(referenceTop(words, n))
        expect(Array.from(levels, (l) => l >= n)).toEqual(Array.from(full, (l) => l === n))
      }
      for (let n = 5; n <= 10; n++) {
        const expected = referenceDuplicated(words, n)
        expect(duplicatedNgramChars(ids, lengths, n)).toBe(expected)
        expect(duplicatedNgramChars(ids, lengths, n, { levels, m: 5 })).toBe(expected)
        if (n === 5 && expected > 0) repeatedDocs++
      }
    }
    // The corpus exercises both paths: documents with repeats and without.
    expect(repeatedDocs).toBeGreaterThan(20)
    expect(repeatedDocs).toBeLessThan(docs.length)
  })
})
