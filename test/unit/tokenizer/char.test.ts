import { describe, expect, it } from 'vitest'
import { UserError } from '../../../src/shared/errors'
import { fromJSON, trainChar } from '../../../src/worker/tokenizer'
import { hostileString, int, mulberry32 } from './corpus'

const byteId = (specials: number, byte: number) => specials + byte

describe('trainChar and CharTokenizer', () => {
  it('numbers specials, byte tokens, then the characters seen in code-point order', async () => {
    const { tokenizer, stats } = await trainChar(['hello world', 'dear 🤖'])
    const chars = [...new Set('hello worlddear 🤖')].sort(
      (a, b) => a.codePointAt(0)! - b.codePointAt(0)!,
    )
    expect(stats).toMatchObject({
      texts: 2,
      characters: chars.length,
      charactersSeen: chars.length,
    })
    expect(tokenizer.vocabSize).toBe(3 + 256 + chars.length)
    expect([tokenizer.bos, tokenizer.eos, tokenizer.pad]).toEqual([0, 1, 2])
    expect(tokenizer.idToToken(3)).toBe('<0x00>')
    expect(tokenizer.idToToken(3 + 255)).toBe('<0xFF>')
    chars.forEach((c, i) => expect(tokenizer.idToToken(3 + 256 + i)).toBe(c))
    expect(Array.from(tokenizer.encode('hold'))).toEqual(
      [...'hold'].map((c) => tokenizer.tokenToId(c)),
    )
  })

  it('spells unseen characters as UTF-8 bytes and gives any text back', async () => {
    const { tokenizer } = await trainChar(['abc'])
    expect(Array.from(tokenizer.encode('aé'))).toEqual([
      tokenizer.tokenToId('a'),
      byteId(3, 0xc3),
      byteId(3, 0xa9),
    ])
    const rng = mulberry32(3)
    for (let i = 0; i < 1000; i++) {
      const s = hostileString(rng, int(rng, 50))
      expect(tokenizer.decode(tokenizer.encode(s))).toBe(s)
    }
    expect(tokenizer.decode(tokenizer.encode('x\ud800y'))).toBe('x\ufffdy')
    expect(tokenizer.decode(tokenizer.encode('\ufeffBOM'))).toBe('\ufeffBOM')
  })

  it('decodes broken byte runs as Hugging Face does: U+FFFD per byte', async () => {
    const { tokenizer } = await trainChar(['ab'])
    const a = tokenizer.tokenToId('a')!
    // E2 82 AC is "€"; E2 82 alone is cut short.
    expect(tokenizer.decode([byteId(3, 0xe2), byteId(3, 0x82), byteId(3, 0xac)])).toBe('€')
    expect(tokenizer.decode([byteId(3, 0xe2), byteId(3, 0x82), a])).toBe('\ufffd\ufffda')
    // A skipped special token does not split a run.
    expect(
      tokenizer.decode([byteId(3, 0xe2), tokenizer.eos!, byteId(3, 0x82), byteId(3, 0xac)], {
        skipSpecial: true,
      }),
    ).toBe('€')
    expect(tokenizer.decodeBytes([byteId(3, 0xe2), a])).toEqual(Uint8Array.of(0xe2, 0x61))
  })

  it('without byte fallback: just the characters, unseen ones as <|unk|>', async () => {
    const { tokenizer } = await trainChar(['First Citizen:\nBefore we proceed'], {
      byteFallback: false,
      specialTokens: [],
    })
    expect(tokenizer.vocabSize).toBe(1 + new Set('First Citizen:\nBefore we proceed').size)
    expect(tokenizer.idToToken(0)).toBe('<|unk|>')
    expect(tokenizer.idToToken(1)).toBe('\n')
    expect([tokenizer.bos, tokenizer.eos, tokenizer.pad]).toEqual([null, null, null])
    expect(Array.from(tokenizer.encode('Fix!'))).toEqual([
      tokenizer.tokenToId('F'),
      tokenizer.tokenToId('i'),
      0,
      0,
    ])
    expect(tokenizer.decode(tokenizer.encode('Before'))).toBe('Before')
  })

  it('drops characters rarer than minFrequency (they fall back to bytes)', async () => {
    const { tokenizer, stats } = await trainChar(['aaab'], { minFrequency: 2 })
    expect(stats).toMatchObject({ charactersSeen: 2, characters: 1 })
    expect(tokenizer.tokenToId('b')).toBeNull()
    expect(tokenizer.decode(tokenizer.encode('ab'))).toBe('ab')
  })

  it('reads written special tokens only when asked', async () => {
    const { tokenizer } = await trainChar(['<|eos|> text'])
    expect(tokenizer.encode('<|eos|>')).toHaveLength(7)
    expect(Array.from(tokenizer.encode('<|eos|>', { allowSpecial: true }))).toEqual([1])
  })

  it('round-trips through tokenizer.json', async () => {
    for (const byteFallback of [true, false]) {
      const { tokenizer } = await trainChar(['Zoë 🤖 日本'], { byteFallback })
      const again = fromJSON(tokenizer.serialize())
      expect(again.kind).toBe('char')
      expect(again.serialize()).toBe(tokenizer.serialize())
      expect(again.encode('Zoë? 🤖')).toEqual(tokenizer.encode('Zoë? 🤖'))
    }
  })

  it('rejects special tokens spelled like a character or byte token', async () => {
    await expect(trainChar(['a'], { specialTokens: ['x'] })).rejects.toBeInstanceOf(UserError)
    await expect(trainChar(['a'], { specialTokens: ['<0x41>'] })).rejects.toBeInstanceOf(UserError)
  })
})
