/**
 * GPT-2's reversible byte-to-character table, used by every byte-level BPE (GPT-2, RoBERTa,
 * Llama 3, Hugging Face's ByteLevel pre-tokenizer and decoder). Printable Latin-1 bytes map to
 * themselves; the other 68 (controls, space, NBSP, soft hyphen) map to U+0100.. in byte order,
 * so every token is a printable string without spaces in `vocab` and `merges`
 * (space is `Ġ`, newline `Ċ`).
 */

function isPrintable(byte: number): boolean {
  return (byte >= 0x21 && byte <= 0x7e) || (byte >= 0xa1 && byte <= 0xac) || byte >= 0xae
}

const byteToChar: string[] = []
/** Indexed by character code (all mapped characters are below U+0144); -1 where unmapped. */
const charToByteTable = new Int16Array(0x144).fill(-1)
{
  let next = 0x100
  for (let byte = 0; byte < 256; byte++) {
    const code = isPrintable(byte) ? byte : next++
    byteToChar[byte] = String.fromCharCode(code)
    charToByteTable[code] = byte
  }
}

/** The character standing for each byte. */
export const BYTE_TO_CHAR: readonly string[] = byteToChar

/**
 * The 256 bytes in the order of their characters: GPT-2's vocabulary order (`!` first) and the
 * order in which Hugging Face's trainer numbers a corpus's alphabet. Our base tokens follow it,
 * so ties between equally frequent pairs break the same way as in Hugging Face's trainer.
 */
export const BYTES_IN_CHAR_ORDER: readonly number[] = Array.from({ length: 256 }, (_, i) => i).sort(
  (a, b) => byteToChar[a].charCodeAt(0) - byteToChar[b].charCodeAt(0),
)

/** The byte a table character stands for, or -1 for any other character code. */
export function charToByte(code: number): number {
  return code < charToByteTable.length ? charToByteTable[code] : -1
}

/** The byte-level string of some bytes (how a token is written in tokenizer.json). */
export function bytesToToken(bytes: ArrayLike<number>): string {
  let out = ''
  for (let i = 0; i < bytes.length; i++) out += byteToChar[bytes[i]]
  return out
}

/** The bytes a byte-level token string stands for, or null if it has a character outside the table. */
export function tokenToBytes(token: string): Uint8Array | null {
  const out = new Uint8Array(token.length)
  for (let i = 0; i < token.length; i++) {
    const byte = charToByte(token.charCodeAt(i))
    if (byte < 0) return null
    out[i] = byte
  }
  return out
}

const encoder = new TextEncoder()

/** UTF-8 bytes of a string; lone surrogates become U+FFFD (EF BF BD), as everywhere on the web. */
export function utf8(text: string): Uint8Array {
  return encoder.encode(text)
}

/**
 * The bytes Hugging Face's ByteLevel decoder produces for one token: the table bytes if every
 * character is in the table, otherwise the token's own UTF-8 (how special tokens such as
 * `<|eos|>` or `<|my token|>` decode).
 */
export function byteLevelDecodeToken(token: string): Uint8Array {
  return tokenToBytes(token) ?? utf8(token)
}
