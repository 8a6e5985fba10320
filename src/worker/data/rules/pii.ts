import { isIPv6 } from 'node:net'
import type { RedactionType } from '../../../shared/data/types'
import { fired, kept, type PendingRedaction, type Rule } from './types'

/**
 * PII redaction (datatrove's PIIFormatter, BigScience's context rules): e-mail addresses,
 * phone numbers, global IPv4/IPv6 addresses and Luhn-valid card numbers become typed
 * placeholders. Phone and IP matches near "isbn", "doi" or "#" are left alone: they are
 * far more often identifiers than personal data.
 */

const EMAIL_RE =
  /(?<![\w.+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.[A-Za-z]{2,24}(?![\w-])/g
const CARD_RE = /(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])/g
const PHONE_RE =
  /(?<![\w+])(?:\+\d{1,3}[ .-]?(?:\(\d{1,4}\)[ .-]?)?\d{1,4}(?:[ .-]?\d{2,4}){1,4}|\(\d{2,4}\)[ .-]?\d{3,4}[ .-]?\d{3,4}|\d{3}[.-]\d{3}[.-]\d{4}|\d{3} \d{3} \d{4}|0\d{1,4}(?:[ .-]\d{2,4}){2,4})(?![\w])/g
const OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)'
const IPV4_RE = new RegExp(`(?<![\\w.])${OCTET}(?:\\.${OCTET}){3}(?!\\.?[\\w])`, 'g')
const IPV6_RE =
  /(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|:|(?:\d{1,3}\.){3}\d{1,3})?(?![\w:]|\.\w)/g
const CONTEXT_RE = /isbn|doi|#/i
const CONTEXT_CHARS = 100

export const placeholders: Record<RedactionType, string> = {
  EMAIL: '<EMAIL>',
  PHONE: '<PHONE>',
  IP: '<IP>',
  CREDIT_CARD: '<CREDIT_CARD>',
  BLOCKED: '<BLOCKED>',
}

interface Match {
  type: RedactionType
  start: number
  end: number
  value: string
}

/** The Luhn checksum every payment card number satisfies. */
export function luhnValid(digits: string): boolean {
  let sum = 0
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48
    if (i % 2 === 1) {
      d *= 2
      if (d > 9) d -= 9
    }
    sum += d
  }
  return sum % 10 === 0
}

/** Issuer prefixes of the major networks (Visa, Mastercard, Amex, Discover, JCB, Diners, UnionPay). */
function cardPrefix(d: string): boolean {
  const two = Number(d.slice(0, 2))
  const four = Number(d.slice(0, 4))
  return (
    d[0] === '4' ||
    (two >= 51 && two <= 55) ||
    (four >= 2221 && four <= 2720) ||
    two === 34 ||
    two === 37 ||
    d.startsWith('6011') ||
    two === 65 ||
    two === 35 ||
    two === 36 ||
    two === 38 ||
    two === 30 ||
    two === 62
  )
}

/** Not private, loopback, link-local, shared, documentation, multicast or reserved. */
export function isGlobalIPv4(ip: string): boolean {
  const [a, b, c] = ip.split('.').map(Number)
  if (a === 0 || a === 10 || a === 127 || a >= 224) return false
  if (a === 100 && b >= 64 && b <= 127) return false
  if (a === 169 && b === 254) return false
  if (a === 172 && b >= 16 && b <= 31) return false
  if (a === 192 && b === 168) return false
  if (a === 192 && b === 0 && (c === 0 || c === 2)) return false
  if (a === 198 && (b === 18 || b === 19)) return false
  if (a === 198 && b === 51 && c === 100) return false
  if (a === 203 && b === 0 && c === 113) return false
  return true
}

/** The eight 16-bit groups of a valid IPv6 address. */
export function ipv6Groups(ip: string): number[] {
  let text = ip
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text)
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number)
    text = text.slice(0, v4.index) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`
  }
  const [head, tail] = text.split('::') as [string, string | undefined]
  const parse = (s: string) => (s ? s.split(':').map((g) => parseInt(g, 16)) : [])
  const left = parse(head)
  const right = tail === undefined ? [] : parse(tail)
  const fill = tail === undefined ? [] : new Array<number>(8 - left.length - right.length).fill(0)
  return [...left, ...fill, ...right]
}

/** Global unicast (2000::/3), minus the documentation and IETF special-purpose blocks. */
export function isGlobalIPv6(ip: string): boolean {
  const [g0, g1] = ipv6Groups(ip)
  if ((g0 & 0xe000) !== 0x2000) return false
  if (g0 === 0x2001 && g1 === 0x0db8) return false
  if (g0 === 0x2001 && g1 < 0x0200) return false
  return true
}

function nearIdentifier(text: string, start: number, end: number): boolean {
  return CONTEXT_RE.test(
    text.slice(Math.max(0, start - CONTEXT_CHARS), Math.min(text.length, end + CONTEXT_CHARS)),
  )
}

/** Every PII match in a text, overlaps resolved (earlier and longer first), in order. */
export function findPii(
  text: string,
  enabled: { email: boolean; phone: boolean; ip: boolean; creditCard: boolean },
): Match[] {
  const found: Match[] = []
  const add = (type: RedactionType, m: RegExpExecArray) =>
    found.push({ type, start: m.index, end: m.index + m[0].length, value: m[0] })
  // Cheap tests first: most documents have no '@', no long digit runs, no colons.
  const digits = /\d\d/.test(text)
  if (enabled.email && text.includes('@')) for (const m of text.matchAll(EMAIL_RE)) add('EMAIL', m)
  if (enabled.creditCard && digits)
    for (const m of text.matchAll(CARD_RE)) {
      const digits = m[0].replace(/\D/g, '')
      if (digits.length >= 13 && digits.length <= 19 && cardPrefix(digits) && luhnValid(digits))
        add('CREDIT_CARD', m)
    }
  if (enabled.ip && /\d\.\d/.test(text))
    for (const m of text.matchAll(IPV4_RE))
      if (isGlobalIPv4(m[0]) && !nearIdentifier(text, m.index, m.index + m[0].length)) add('IP', m)
  if (enabled.ip && /[0-9A-Fa-f]:[0-9A-Fa-f:]/.test(text))
    for (const m of text.matchAll(IPV6_RE))
      if (
        isIPv6(m[0]) &&
        isGlobalIPv6(m[0]) &&
        !nearIdentifier(text, m.index, m.index + m[0].length)
      )
        add('IP', m)
  if (enabled.phone && digits)
    for (const m of text.matchAll(PHONE_RE)) {
      const digits = m[0].replace(/\D/g, '').length
      if (digits >= 9 && digits <= 15 && !nearIdentifier(text, m.index, m.index + m[0].length))
        add('PHONE', m)
    }
  // Priority on overlap: the earlier match, then the longer one (an e-mail beats the
  // phone-like digits inside it because e-mails were matched on the same span first).
  found.sort((a, b) => a.start - b.start || b.end - a.end)
  const chosen: Match[] = []
  let end = -1
  for (const m of found) {
    if (m.start < end) continue
    chosen.push(m)
    end = m.end
  }
  return chosen
}

/** Which kinds of personal data to find (the pii rule's parameters). */
type PiiKinds = Parameters<typeof findPii>[1]

/** `text` with every match of `findPii` replaced by its placeholder; null when none. */
export function redactPii(
  text: string,
  kinds: PiiKinds,
): { text: string; redactions: PendingRedaction[]; matches: Match[] } | null {
  const matches = findPii(text, kinds)
  if (matches.length === 0) return null
  let out = ''
  let at = 0
  const redactions: PendingRedaction[] = []
  for (const m of matches) {
    out += text.slice(at, m.start) + placeholders[m.type]
    at = m.end
    redactions.push({ type: m.type, value: m.value })
  }
  return { text: out + text.slice(at), redactions, matches }
}

const countKey: Record<RedactionType, string> = {
  EMAIL: 'email',
  PHONE: 'phone',
  IP: 'ip',
  CREDIT_CARD: 'creditCard',
  BLOCKED: 'blocked',
}

function countMatches(matches: readonly Match[]) {
  const counts: Record<string, number> = { email: 0, phone: 0, ip: 0, creditCard: 0 }
  for (const m of matches) counts[countKey[m.type]]++
  return counts
}

/** "2 email, 1 phone": what a redaction replaced, for a rule's note. */
export function describePii(matches: readonly Match[]): string {
  return Object.entries(countMatches(matches))
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${n} ${k}`)
    .join(', ')
}

export const pii: Rule<'pii'> = (view, p) => {
  const redacted = redactPii(view.text, p)
  const matches = redacted?.matches ?? []
  const measures = { hits: matches.length, ...countMatches(matches) }
  if (!redacted) return kept(measures)
  if (p.removeAboveHits > 0 && matches.length > p.removeAboveHits)
    return fired(
      'remove',
      'pii_hits',
      matches.length,
      p.removeAboveHits,
      measures,
      `${matches.length} pieces of personal data (limit ${p.removeAboveHits}).`,
    )
  return {
    action: 'modify',
    text: redacted.text,
    redactions: redacted.redactions,
    outcome: { measures, note: `Redacted ${describePii(matches)}.` },
  }
}
