import type { DocRule, DocRuleId } from '../../../shared/data/rules'
import type { Redaction, RuleOutcome } from '../../../shared/data/types'
import { TextView } from '../text/view'
import { blocklist, redactBlocked } from './blocklist'
import { c4 } from './c4'
import { finewebQuality } from './fineweb'
import { gopherQuality } from './gopher-quality'
import { gopherRepetition } from './gopher-repetition'
import { heuristics } from './heuristics'
import { language } from './language'
import { noise } from './noise'
import { describePii, pii, placeholders, redactPii } from './pii'
import type { PendingRedaction, Rule, RuleContext, RuleResult } from './types'
import { unicode } from './unicode'

/** Every document rule by id; the compiler checks none is missing. */
export const rules: { [I in DocRuleId]: Rule<I> } = {
  noise,
  unicode,
  language,
  gopher_repetition: gopherRepetition,
  gopher_quality: gopherQuality,
  c4,
  fineweb_quality: finewebQuality,
  heuristics,
  blocklist,
  pii,
}

/** A document after the rules: its cleaned text, the verdict and every rule's record. */
export interface RulesOutcome {
  cleaned: string
  modified: boolean
  /** The rules' verdict; a later stage (dedup, the quality model) may still change it. */
  action: 'keep' | 'remove' | 'review'
  /** The rule that removed it, or else the first that sent it to review. */
  decisionRule: DocRuleId | null
  outcomes: RuleOutcome[]
  redactions: Redaction[]
  language: string | null
  languageScore: number | null
}

/** Runs one rule for applyRules: `npm run bench:rules` passes one that times each rule. */
export type RuleRunner = (id: DocRuleId, run: () => RuleResult) => RuleResult

/** A redaction made on a removed document: the new text and what it replaced. */
interface RemovedRedaction {
  text: string
  redactions: PendingRedaction[]
  note: string
}

/**
 * The rules that take data out of the text for privacy, as they apply to a document that
 * another rule removed. A removed document is not training data, but a reviewer (or a bulk
 * action over a queue) may keep it, and from then on its stored text is: so it must never
 * hold what these rules exist to take out, whatever rule removed it and wherever these
 * stand in the order. The pii rule redacts even when it removes a document itself (over
 * its hit limit); a blocklist redacts only when that is its action.
 */
const redactorsOfRemoved: {
  [I in DocRuleId]?: (text: string, params: RuleParamsOf<I>) => RemovedRedaction | null
} = {
  pii: (text, p) => {
    const r = redactPii(text, p)
    return r && { ...r, note: `Redacted ${describePii(r.matches)} in the removed text.` }
  },
  blocklist: (text, p) => {
    const r = p.action === 'redact' ? redactBlocked(text, p.words) : null
    return (
      r && { ...r, note: `Redacted ${r.redactions.length} blocklisted words in the removed text.` }
    )
  },
}

type RuleParamsOf<I extends DocRuleId> = Parameters<(typeof rules)[I]>[1]

/**
 * Apply the enabled rules in order. The first rule that removes the document ends the
 * run (later rules would measure text nobody keeps), but for the redacting rules from that
 * point on, which still take personal data out of its text (`redactorsOfRemoved`); a
 * 'review' verdict is remembered and the run goes on, since a later rule may still remove
 * it.
 */
export function applyRules(
  text: string,
  config: readonly DocRule[],
  runner?: RuleRunner,
): RulesOutcome {
  let view = new TextView(text)
  const ctx: RuleContext = { language: null, languageScore: null }
  const outcomes: RuleOutcome[] = []
  const pending: PendingRedaction[] = []
  let action: RulesOutcome['action'] = 'keep'
  let decisionRule: DocRuleId | null = null
  let removedAt = -1
  for (const [i, rule] of config.entries()) {
    if (!rule.enabled) continue
    // Each rule takes its own params type; `rule` pairs the id with the matching params.
    const run: (v: TextView, p: never, c: RuleContext) => RuleResult = rules[rule.id]
    const current = view
    const result = runner
      ? runner(rule.id, () => run(current, rule.params as never, ctx))
      : run(view, rule.params as never, ctx)
    outcomes.push({ rule: rule.id, action: result.action, ...result.outcome })
    if (result.action === 'modify' && result.text !== undefined) {
      view = new TextView(result.text)
      if (result.redactions) pending.push(...result.redactions)
    } else if (result.action === 'remove') {
      action = 'remove'
      decisionRule = rule.id
      removedAt = i
      break
    } else if (result.action === 'review' && action === 'keep') {
      action = 'review'
      decisionRule = rule.id
    }
  }
  if (removedAt >= 0) {
    for (const [i, rule] of config.entries()) {
      const redact = redactorsOfRemoved[rule.id] as
        ((t: string, p: unknown) => RemovedRedaction | null) | undefined
      if (i < removedAt || !rule.enabled || !redact) continue
      const r = redact(view.text, rule.params)
      if (!r) continue
      view = new TextView(r.text)
      pending.push(...r.redactions)
      // The remover's own outcome stays the record of its verdict; a later rule gets one.
      const last = outcomes[outcomes.length - 1]
      if (i === removedAt) last.note = last.note ? `${last.note} ${r.note}` : r.note
      else
        outcomes.push({
          rule: rule.id,
          action: 'modify',
          measures: { hits: r.redactions.length },
          note: r.note,
        })
    }
  }
  return {
    cleaned: view.text,
    modified: view.text !== text,
    action,
    decisionRule,
    outcomes,
    redactions: locateRedactions(view.text, pending),
    language: ctx.language,
    languageScore: ctx.languageScore,
  }
}

/**
 * Spans of the placeholders in the final text, matched in order with what they replaced.
 * Exact when redaction is the last rule that changes text (the default order); if a
 * later rule dropped a line holding a placeholder, that redaction is not listed.
 */
export function locateRedactions(text: string, pending: readonly PendingRedaction[]): Redaction[] {
  const out: Redaction[] = []
  let from = 0
  for (const r of pending) {
    const token = placeholders[r.type]
    const at = text.indexOf(token, from)
    if (at === -1) continue
    out.push({ type: r.type, start: at, end: at + token.length, value: r.value })
    from = at + token.length
  }
  return out
}
