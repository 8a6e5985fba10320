/**
 * Seeded text generators for the tokenizer tests and benchmark: natural-looking multilingual
 * prose (a Zipf-distributed lexicon per script, so words repeat as in real text) and hostile
 * Unicode strings (controls, combining marks, bidi marks, odd whitespace, astral characters).
 */

export type Rng = () => number

/** mulberry32: small, fast, and the same sequence for the same seed everywhere. */
export function mulberry32(seed: number): Rng {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export const int = (rng: Rng, n: number) => Math.floor(rng() * n)
export const pick = <T>(rng: Rng, items: readonly T[]): T => items[int(rng, items.length)]
/** An index in [0, n) with a heavy head, roughly Zipf. */
const zipf = (rng: Rng, n: number) => Math.min(n - 1, Math.floor(n * rng() ** 3))

interface Script {
  syllables: readonly string[]
  /** Words are separated by spaces (false for Chinese, Japanese, Thai). */
  spaced: boolean
  end: readonly string[]
  comma: string
}

const hangul = Array.from({ length: 60 }, (_, i) =>
  String.fromCharCode(0xac00 + ((i * 37) % 19) * 588 + ((i * 11) % 21) * 28 + (i % 3) * 4),
)

const SCRIPTS: Record<string, Script> = {
  en: {
    syllables:
      'the an in er on at re st ing ed ou ly pro con tion ex com al ar or it is be ha ve wi th fo und ment ab out'.split(
        ' ',
      ),
    spaced: true,
    end: ['.', '.', '?', '!'],
    comma: ',',
  },
  de: {
    syllables: 'sch ei ie ung ä ö ü ß en ge ver lich keit tz ch stra über groß be zu'.split(' '),
    spaced: true,
    end: ['.'],
    comma: ',',
  },
  fr: {
    syllables: 'é è à ç eau ou ion que ê tre ment le la ré ci pré où'.split(' '),
    spaced: true,
    end: ['.', ' ?', ' !'],
    comma: ',',
  },
  ru: {
    syllables: 'при вет мир ска зал ост ени ный ова про ть ся ие ого ёж щи ъе'.split(' '),
    spaced: true,
    end: ['.', '!'],
    comma: ',',
  },
  el: {
    syllables: 'και το λο γος πα ρά ση μέ νος ει ού ψυ χή'.split(' '),
    spaced: true,
    end: ['.', ';'],
    comma: ',',
  },
  ar: {
    syllables: 'ال كت اب مد رسة ون ين ية سل ام مُ حَ مّ دٌ'.split(' '),
    spaced: true,
    end: ['.', '؟'],
    comma: '،',
  },
  he: {
    syllables: 'של ום ספר ים ות מה בר כה שָׁ לוֹם'.split(' '),
    spaced: true,
    end: ['.'],
    comma: ',',
  },
  hi: {
    syllables: 'नम स्ते भा रत कि ता ब हिं दी में क्ष त्र ज्ञ'.split(' '),
    spaced: true,
    end: ['।'],
    comma: ',',
  },
  zh: {
    syllables:
      '的 一 是 不 了 人 我 在 有 他 这 中 大 来 上 国 个 到 说 们 为 子 和 你 地 出 道 也 时 年 学 语 言 模 型 训 练'.split(
        ' ',
      ),
    spaced: false,
    end: ['。', '！', '？'],
    comma: '，',
  },
  ja: {
    syllables: 'の は です ます 日本 語 東京 カタ カナ し た こと ラーメン 学習'.split(' '),
    spaced: false,
    end: ['。'],
    comma: '、',
  },
  ko: { syllables: hangul, spaced: true, end: ['.', '?'], comma: ',' },
  th: {
    syllables: 'สวัสดี ครับ ภาษา ไทย การ ที่ และ ของ เรียน'.split(' '),
    spaced: false,
    end: [' '],
    comma: ' ',
  },
}

const EMOJI = ['😀', '👍🏽', '👨‍👩‍👧', '🇫🇷', '❤️', '🎉', '🚀', '🤖', '🧪', '✅']
const CODE = [
  'const x = foo(bar, 42);',
  '\tif (a >= b) { return a; }',
  '    for i in range(10):\n        print(i ** 2)',
  'SELECT id, name FROM users WHERE age > 30;',
  '<div class="main">Hello</div>',
  '{"key": [1, 2.5, null, true]}',
]

/** A lexicon per script: words built from syllables, fixed for a seed. */
function lexicon(rng: Rng, script: Script, size: number): string[] {
  const words = new Set<string>()
  while (words.size < size) {
    let w = ''
    const n = 1 + int(rng, 3) + int(rng, 2)
    for (let i = 0; i < n; i++) w += pick(rng, script.syllables)
    words.add(w)
  }
  return [...words]
}

function number(rng: Rng): string {
  switch (int(rng, 5)) {
    case 0:
      return String(int(rng, 100))
    case 1:
      return String(1900 + int(rng, 130))
    case 2:
      return (rng() * 1000).toFixed(2)
    case 3:
      return `${1 + int(rng, 999)},${String(int(rng, 1000)).padStart(3, '0')},000`
    default:
      return String(int(rng, 1e9))
  }
}

/**
 * Prose in a dozen scripts with numbers, emoji and code, about `chars` UTF-16 units, as
 * documents (paragraph groups) generated one at a time, so a corpus of any size streams. The
 * lexicon depends on `lexiconSeed` (default: `seed`), the sampling on `seed`.
 */
export function* multilingualStream(
  seed: number,
  chars: number,
  lexiconSize = 3000,
  lexiconSeed = seed,
): Generator<string> {
  const lexRng = mulberry32(lexiconSeed)
  const names = Object.keys(SCRIPTS)
  const lexicons = new Map(names.map((n) => [n, lexicon(lexRng, SCRIPTS[n], lexiconSize)]))
  const rng = lexiconSeed === seed ? lexRng : mulberry32(seed)
  let total = 0
  while (total < chars) {
    let doc = ''
    const paragraphs = 1 + int(rng, 4)
    for (let p = 0; p < paragraphs; p++) {
      const roll = rng()
      if (roll < 0.05) doc += pick(rng, CODE)
      else {
        // English dominates, as in most real corpora.
        const name = roll < 0.45 ? 'en' : pick(rng, names)
        const script = SCRIPTS[name]
        const words = lexicons.get(name)!
        const sentences = 1 + int(rng, 4)
        for (let s = 0; s < sentences; s++) {
          const length = 3 + int(rng, 12)
          const parts: string[] = []
          for (let i = 0; i < length; i++) {
            const r = rng()
            let w =
              r < 0.04 ? number(rng) : r < 0.06 ? pick(rng, EMOJI) : words[zipf(rng, words.length)]
            if (i === 0 && name === 'en') w = w[0].toUpperCase() + w.slice(1)
            if (r > 0.95 && i < length - 1) w += script.comma
            parts.push(w)
          }
          doc += parts.join(script.spaced ? ' ' : '') + pick(rng, script.end)
          if (s < sentences - 1) doc += script.spaced ? ' ' : ''
        }
      }
      doc += pick(rng, ['\n\n', '\n', '\r\n', '\n\n\n', ' \n'])
    }
    yield doc
    total += doc.length
  }
}

/** `multilingualStream` as an array. */
export function multilingualDocs(seed: number, chars: number, lexiconSize = 3000): string[] {
  return [...multilingualStream(seed, chars, lexiconSize)]
}

/** Characters that break naive tokenizers, grouped so that each group is drawn evenly. */
const HOSTILE: readonly (readonly string[])[] = [
  [...'abcxyzABCXYZ0123456789'],
  [...'.,;:!?\'"-_()[]{}<>/\\|@#$%^&*+=~`'],
  [' ', '  ', '\t', '\n', '\r', '\r\n', '\v', '\f', '\u0085', '\u00a0', '\u1680', '\u2003'],
  ['\u2028', '\u2029', '\u202f', '\u205f', '\u3000', '\ufeff', '\u200b', '\u180e'],
  ['\u0000', '\u0001', '\u001b', '\u007f', '\u0080', '\u009f', '\u00ad'],
  ['\u0301', '\u0308', '\u0327', '\u0338', '\u20dd', '\u093f', '\u094d', '\u05b8'],
  ['é', 'ß', 'ø', 'ñ', 'Å', 'ſ', 'K', 'ǅ', 'ﬁ', 'İ', 'ı'],
  ['д', 'Ж', 'λ', 'Ω', 'ש', 'א', 'ع', 'ب', 'ह', 'क्ष', 'ก', 'ำ'],
  ['中', '文', '日', '本', '한', '국', 'あ', 'ア', 'ｶ', '１', '٣', '௫', '²', '½', 'Ⅻ'],
  ['😀', '👍🏽', '👨‍👩‍👧‍👦', '🇯🇵', '🏳️‍🌈', '\u{1f9ea}', '\u{10ffff}', '\u{e0001}', '𝔘𝔫𝔦'],
  [
    '\u200d',
    '\u200c',
    '\u200e',
    '\u200f',
    '\u202a',
    '\u202e',
    '\u2066',
    '\u2069',
    '\ue000',
    '\ufffd',
  ],
  ["'s", "'S", "'ll", "'LL", "'ve", "'ſ", "'re", "'D", "'m", "'t"],
  ['\ufffe', '\uffff', '\u{1fffe}', '\u{fdd0}'],
]

/** A hostile string of about `length` pieces; with `loneSurrogates`, some unpaired halves too. */
export function hostileString(rng: Rng, length: number, loneSurrogates = false): string {
  let s = ''
  for (let i = 0; i < length; i++) {
    const r = rng()
    if (loneSurrogates && r < 0.05) s += String.fromCharCode(0xd800 + int(rng, 0x800))
    else if (r < 0.08) s += pick(rng, pick(rng, HOSTILE)).repeat(2 + int(rng, 40))
    else if (r < 0.1) s += String.fromCodePoint(0x10000 + int(rng, 0xf0000))
    else if (r < 0.12) s += String.fromCodePoint(int(rng, 0xd800))
    else s += pick(rng, pick(rng, HOSTILE))
  }
  return s
}
