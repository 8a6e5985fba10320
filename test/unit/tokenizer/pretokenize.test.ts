import { describe, expect, it } from 'vitest'
import {
  compilePattern,
  forEachPiece,
  pretokenize,
  PRETOKENIZER_PATTERNS,
  safeCut,
  toJsPattern,
} from '../../../src/worker/tokenizer/pretokenize'
import { hostileString, int, mulberry32, multilingualDocs } from './corpus'

const { llama3, gpt2 } = PRETOKENIZER_PATTERNS

describe('pre-tokenization', () => {
  it('splits as Llama 3 does: contractions, letters with one leading mark, digits in threes', () => {
    expect(pretokenize("I'm here, they'LL see 1234567 items!!\n\n  ok  ")).toEqual([
      'I',
      "'m",
      ' here',
      ',',
      ' they',
      "'LL",
      ' see',
      ' ',
      '123',
      '456',
      '7',
      ' items',
      '!!\n\n',
      ' ',
      ' ok',
      '  ',
    ])
    expect(pretokenize('a\r\n\r\nb  \n\tc(d)')).toEqual([
      'a',
      '\r\n\r\n',
      'b',
      '  \n',
      '\tc',
      '(d',
      ')',
    ])
    expect(pretokenize('日本語のテキスト 한국어')).toEqual(['日本語のテキスト', ' 한국어'])
  })

  it('splits as GPT-2 does: whole numbers, only lower-case contractions', () => {
    expect(pretokenize("I'm 1234567 they'LL\n\nok", gpt2)).toEqual([
      'I',
      "'m",
      ' 1234567',
      ' they',
      "'",
      'LL',
      // A whitespace run leaves its last character to the next piece.
      '\n',
      '\n',
      'ok',
    ])
  })

  it('reads whitespace as Unicode White_Space (Oniguruma), not as JavaScript \\s', () => {
    // U+0085 (NEL) is whitespace (else " \u0085" would be one punctuation piece); U+FEFF is not.
    expect(pretokenize('a \u0085b', gpt2)).toEqual(['a', ' ', '\u0085', 'b'])
    expect(pretokenize('a \ufeffb', gpt2)).toEqual(['a', ' \ufeff', 'b'])
    expect(pretokenize('x\u3000\u3000y')).toEqual(['x', '\u3000', '\u3000y'])
  })

  it("rewrites other files' Oniguruma patterns to split the same way in JavaScript", () => {
    expect(toJsPattern(llama3)).toBe(llama3)
    expect(toJsPattern(gpt2)).toBe(gpt2)
    // \s and \S mean Unicode White_Space, inside brackets too.
    expect(pretokenize('a\u0085\ufeffb', toJsPattern('\\s|\\S+'))).toEqual([
      'a',
      '\u0085',
      '\ufeffb',
    ])
    expect(pretokenize('a\u0085\ufeffb', '\\s|\\S+')).toEqual(['a\u0085', '\ufeff', 'b'])
    expect(pretokenize('a\u0085b', toJsPattern('[^\\s]+|\\s'))).toEqual(['a', '\u0085', 'b'])
    // Case-insensitive letter groups, with Unicode's extra folds of s and k.
    expect(toJsPattern("(?i:'s|'ll)x")).toBe("(?:'[sS\u017f]|'[lL][lL])x")
    expect(toJsPattern('(?i:k)')).toBe('(?:[kK\u212a])')
    // Not a group: inside brackets, or an escaped parenthesis.
    expect(toJsPattern('[(?i:a)]\\(?i:b)')).toBe('[(?i:a)]\\(?i:b)')
  })

  it('covers every character of any string, in order', () => {
    const rng = mulberry32(1)
    for (const pattern of [llama3, gpt2]) {
      for (let i = 0; i < 300; i++) {
        const s = hostileString(rng, int(rng, 80), true)
        const pieces = pretokenize(s, pattern)
        expect(pieces.join('')).toBe(s)
        expect(pieces.every((p) => p.length > 0)).toBe(true)
      }
    }
  })

  it('keeps text between matches as pieces and survives empty matches (patterns from files)', () => {
    expect(pretokenize('ab12cd', '\\d')).toEqual(['ab', '1', '2', 'cd'])
    expect(pretokenize('a😀b', 'x*')).toEqual(['a😀b'])
  })

  it('cuts long texts only where the pieces do not change', () => {
    const rng = mulberry32(2)
    const text = multilingualDocs(3, 40_000).join('') + hostileString(rng, 3000)
    for (const pattern of [llama3, gpt2]) {
      const re = compilePattern(pattern)
      const whole = pretokenize(text, re)
      for (let trial = 0; trial < 30; trial++) {
        const cut = safeCut(text, int(rng, text.length))
        expect(cut === text.length || text[cut - 1] === '\n').toBe(true)
        const parts: string[] = []
        forEachPiece(re, text.slice(0, cut), (p) => parts.push(p))
        forEachPiece(re, text.slice(cut), (p) => parts.push(p))
        expect(parts).toEqual(whole)
      }
    }
    // Whitespace around the newline: not a safe place (GPT-2 would split "  \n" differently).
    expect(safeCut('ab  \nc\nd', 0)).toBe(7)
  })
})
