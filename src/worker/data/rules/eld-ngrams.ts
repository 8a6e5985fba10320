/**
 * eld's n-gram database as flat arrays, read straight from the text of eld's data module.
 *
 * Why not `import` the module: it is a 950 KB object literal. Compiling and running it,
 * then walking the 50,000 objects it makes, cost each cleaning thread about half a second
 * at start (most of a mid-size clean's fixed cost); scanning the same text into arrays
 * takes under a tenth of that. The module's shape is simple and fixed for the pinned eld
 * version: `export const ngramsData = {type:'…',languages:{0:'am',…},isSubset:false,
 * ngrams:{'gram':{lang:weight,…},…}}`, keys quoted (with `\'` escapes) or bare
 * identifiers. Anything else throws, and the caller imports the module instead
 * (`ngramsFromObject`), which test/unit/data/language.test.ts checks gives the same arrays.
 */

/** The n-grams and their (language, weight) runs, in the module's order. */
export interface EldNgrams {
  /** ISO 639-1 code by language index. */
  languages: string[]
  grams: string[]
  /** Gram e's run is [runStart[e], runStart[e + 1]) in runLang / runWeight. */
  runStart: Int32Array
  runLang: Uint8Array
  /** Weights as stored (eld adds its base score when it reads them). */
  runWeight: Int32Array
}

/** The module's `ngramsData` as imported: the slow path, and the parser's reference. */
export interface EldNgramsObject {
  languages: Record<number, string>
  ngrams: Record<string, Record<number, number>>
}

const IDENTIFIER = /^[\p{L}_$][\p{L}\p{N}_$]*$/u

/** Scan the data module's source text; throws on anything outside the shape above. */
export function parseEldNgrams(source: string): EldNgrams {
  let i = 0
  const fail = (what: string): never => {
    throw new Error(`eld n-gram data: ${what} at offset ${i}`)
  }
  const expect = (token: string) => {
    if (!source.startsWith(token, i)) fail(`expected ${JSON.stringify(token)}`)
    i += token.length
  }
  const integer = (): number => {
    const negative = source.charCodeAt(i) === 45 // '-'
    if (negative) i++
    const start = i
    let value = 0
    for (let c = source.charCodeAt(i); c >= 48 && c <= 57; c = source.charCodeAt(++i))
      value = value * 10 + c - 48
    if (i === start) fail('expected a number')
    return negative ? -value : value
  }
  /** A quoted string (only `\'` and `\\` escapes occur) or a bare identifier key. */
  const key = (): string => {
    if (source.charCodeAt(i) !== 39) {
      const end = source.indexOf(':', i)
      const name = end < 0 ? '' : source.slice(i, end)
      if (!IDENTIFIER.test(name)) fail('expected a key')
      i = end
      return name
    }
    let text = ''
    let from = ++i
    for (;;) {
      const c = source.charCodeAt(i)
      if (Number.isNaN(c)) fail('unterminated string')
      if (c === 39) break
      if (c === 92) {
        const escaped = source.charCodeAt(i + 1)
        if (escaped !== 39 && escaped !== 92) fail('unexpected escape')
        text += source.slice(from, i)
        from = ++i // the escaped character starts the next slice
      }
      i++
    }
    text += source.slice(from, i++)
    return text
  }

  i = source.indexOf('languages:{')
  if (i < 0) fail('no languages')
  i += 'languages:{'.length
  const languages: string[] = []
  while (source.charCodeAt(i) !== 125) {
    if (integer() !== languages.length) fail('languages out of order')
    expect(':')
    languages.push(key())
    if (source.charCodeAt(i) === 44) i++
  }
  if (languages.length === 0 || languages.length > 255) fail('unexpected language count')

  i = source.indexOf('ngrams:{', i)
  if (i < 0) fail('no ngrams')
  i += 'ngrams:{'.length
  const grams: string[] = []
  const starts: number[] = []
  const langs: number[] = []
  const weights: number[] = []
  while (source.charCodeAt(i) !== 125) {
    grams.push(key())
    starts.push(langs.length)
    expect(':{')
    while (source.charCodeAt(i) !== 125) {
      const lang = integer()
      if (lang < 0 || lang >= languages.length) fail('unknown language')
      expect(':')
      langs.push(lang)
      weights.push(integer())
      if (source.charCodeAt(i) === 44) i++
    }
    i++
    if (source.charCodeAt(i) === 44) i++
  }
  expect('}}')
  if (grams.length === 0) fail('no n-grams')
  starts.push(langs.length)
  return {
    languages,
    grams,
    runStart: Int32Array.from(starts),
    runLang: Uint8Array.from(langs),
    runWeight: Int32Array.from(weights),
  }
}

/** The same arrays from the imported module's object. */
export function ngramsFromObject(data: EldNgramsObject): EldNgrams {
  const count = Object.keys(data.languages).length
  const entries = Object.entries(data.ngrams)
  const starts: number[] = []
  const langs: number[] = []
  const weights: number[] = []
  for (const [, run] of entries) {
    starts.push(langs.length)
    for (const [lang, weight] of Object.entries(run)) {
      langs.push(Number(lang))
      weights.push(weight)
    }
  }
  starts.push(langs.length)
  return {
    languages: Array.from({ length: count }, (_, l) => data.languages[l]),
    grams: entries.map(([gram]) => gram),
    runStart: Int32Array.from(starts),
    runLang: Uint8Array.from(langs),
    runWeight: Int32Array.from(weights),
  }
}
