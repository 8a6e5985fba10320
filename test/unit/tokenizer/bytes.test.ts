import { describe, expect, it } from 'vitest'
import {
  BYTE_TO_CHAR,
  BYTES_IN_CHAR_ORDER,
  byteLevelDecodeToken,
  bytesToToken,
  charToByte,
  tokenToBytes,
  utf8,
} from '../../../src/worker/tokenizer/bytes'

describe("GPT-2's byte-to-character table", () => {
  it('is a bijection onto printable, non-space characters', () => {
    expect(new Set(BYTE_TO_CHAR).size).toBe(256)
    for (let b = 0; b < 256; b++) {
      const c = BYTE_TO_CHAR[b]
      expect(c).toHaveLength(1)
      expect(charToByte(c.charCodeAt(0))).toBe(b)
      expect(c).not.toMatch(/[\s\p{C}]/u)
    }
  })

  it("matches GPT-2's published table", () => {
    // From GPT-2's vocab.json: "Ġ" space, "Ċ" newline, "ĉ" tab, "Ā" NUL, "ġ" DEL, "ł" NBSP, "Ń" soft hyphen.
    expect(BYTE_TO_CHAR[0x20]).toBe('Ġ')
    expect(BYTE_TO_CHAR[0x0a]).toBe('Ċ')
    expect(BYTE_TO_CHAR[0x09]).toBe('ĉ')
    expect(BYTE_TO_CHAR[0x00]).toBe('Ā')
    expect(BYTE_TO_CHAR[0x7f]).toBe('ġ')
    expect(BYTE_TO_CHAR[0xa0]).toBe('ł')
    expect(BYTE_TO_CHAR[0xad]).toBe('Ń')
    expect(BYTE_TO_CHAR[0x41]).toBe('A')
    expect(BYTE_TO_CHAR[0xff]).toBe('ÿ')
    // GPT-2's vocab order: '!' (id 0) … '~', '¡' … then the remapped bytes.
    expect(BYTES_IN_CHAR_ORDER.slice(0, 3)).toEqual([0x21, 0x22, 0x23])
    expect(BYTES_IN_CHAR_ORDER[93]).toBe(0x7e)
    expect(BYTES_IN_CHAR_ORDER[94]).toBe(0xa1)
    expect(BYTES_IN_CHAR_ORDER[188]).toBe(0x00)
    expect(BYTES_IN_CHAR_ORDER[255]).toBe(0xad)
  })

  it('turns bytes into token strings and back', () => {
    const bytes = utf8('héllo 世界 🤖\n')
    const token = bytesToToken(bytes)
    expect(token).toBe('hÃ©lloĠä¸ĸçķĮĠðŁ¤ĸĊ')
    expect(tokenToBytes(token)).toEqual(bytes)
    expect(tokenToBytes('<| |>')).toBeNull()
  })

  it("decodes special tokens as Hugging Face's ByteLevel decoder does", () => {
    expect(byteLevelDecodeToken('<|eos|>')).toEqual(utf8('<|eos|>'))
    // A character outside the table: the whole token is taken as its own UTF-8.
    expect(byteLevelDecodeToken('<|my token|>')).toEqual(utf8('<|my token|>'))
    expect(byteLevelDecodeToken('ĠĊ')).toEqual(Uint8Array.of(0x20, 0x0a))
  })

  it('encodes lone surrogates as U+FFFD', () => {
    expect(utf8('a\ud800b')).toEqual(Uint8Array.of(0x61, 0xef, 0xbf, 0xbd, 0x62))
  })
})
