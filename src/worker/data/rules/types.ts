import type { DocRuleId, RuleParams } from '../../../shared/data/rules'
import type { RedactionType, RuleAction, RuleOutcome } from '../../../shared/data/types'
import type { TextView } from '../text/view'

/** What earlier rules found out that later ones may use. */
export interface RuleContext {
  language: string | null
  languageScore: number | null
}

/** A replacement made by a rule; positions are resolved once the pipeline has finished. */
export interface PendingRedaction {
  type: RedactionType
  value: string
}

export interface RuleResult {
  action: RuleAction
  /** The new text, when the action is 'modify'. */
  text?: string
  /** The outcome to record, without `rule` and `action` (the pipeline adds them). */
  outcome: Omit<RuleOutcome, 'rule' | 'action'>
  /** Placeholders inserted into `text`, in order of appearance. */
  redactions?: PendingRedaction[]
}

/** A document rule: a pure function of the text, its parameters and what earlier rules learned. */
export type Rule<I extends DocRuleId> = (
  view: TextView,
  params: RuleParams<I>,
  ctx: RuleContext,
) => RuleResult

/** A rule's verdict when a check fires. */
export function fired(
  action: 'remove' | 'review',
  check: string,
  value: number | string,
  threshold: number | string,
  measures: RuleOutcome['measures'],
  note: string,
): RuleResult {
  return { action, outcome: { check, value, threshold, measures, note } }
}

export function kept(measures: RuleOutcome['measures']): RuleResult {
  return { action: 'keep', outcome: { measures } }
}

/** Keep, with a new text when it changed. */
export function keptOrModified(
  before: string,
  after: string,
  measures: RuleOutcome['measures'],
  note?: string,
): RuleResult {
  if (after === before) return kept(measures)
  return { action: 'modify', text: after, outcome: { measures, ...(note ? { note } : {}) } }
}
