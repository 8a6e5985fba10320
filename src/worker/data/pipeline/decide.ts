import type { QualityConfig } from '../../../shared/data/rules'
import type { AutoStatus, RuleOutcome } from '../../../shared/data/types'
import { round } from '../text/view'

/**
 * The quality model's part in a document the rules kept: scores below the review band
 * follow `belowBand`, scores inside it go to review, the rest stay kept. Documents the
 * rules removed or flagged keep the rules' verdict; they only get their score recorded.
 */
export function qualityVerdict(
  score: number,
  rulesKept: boolean,
  q: QualityConfig,
): { status: AutoStatus | null; decides: boolean; outcome: RuleOutcome } {
  const measures = { score: round(score), reviewLow: q.reviewLow, reviewHigh: q.reviewHigh }
  const s = round(score)
  if (!rulesKept)
    return {
      status: null,
      decides: false,
      outcome: {
        rule: 'quality',
        action: 'keep',
        measures,
        note: `Score ${s} (the rules decided).`,
      },
    }
  if (score < q.reviewLow && q.belowBand !== 'keep') {
    const action = q.belowBand === 'remove' ? 'remove' : 'review'
    return {
      status: action === 'remove' ? 'removed' : 'review',
      decides: true,
      outcome: {
        rule: 'quality',
        action,
        check: 'score',
        value: s,
        threshold: q.reviewLow,
        measures,
        note: `Quality score ${s} is below ${q.reviewLow}.`,
      },
    }
  }
  if (score < q.reviewHigh && score >= q.reviewLow)
    return {
      status: 'review',
      decides: true,
      outcome: {
        rule: 'quality',
        action: 'review',
        check: 'score',
        value: s,
        threshold: `${q.reviewLow}–${q.reviewHigh}`,
        measures,
        note: `Quality score ${s} is in the uncertain band ${q.reviewLow}–${q.reviewHigh}: a person should look.`,
      },
    }
  return {
    status: 'kept',
    decides: false,
    outcome: { rule: 'quality', action: 'keep', measures, note: `Quality score ${s}.` },
  }
}
