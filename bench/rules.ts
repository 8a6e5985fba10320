/**
 * Cost of each cleaning rule per document, on one thread: where the data pipeline's CPU
 * time goes, to decide what to make cheaper.
 *
 *   npm run bench:rules                  10 MB of the benchmark's synthetic web text
 *   npm run bench:rules -- --mb 20 --repeat 5
 *
 * Runs the default rule set through the clean job's own loop (applyRules, with a runner
 * that times each rule), then the dedup fingerprint and the quality model's features.
 * Each pass over the corpus is timed per stage; the report keeps each stage's best pass,
 * since other work on the machine only ever adds time. Prints one JSON object.
 */
import { parseArgs } from 'node:util'
import { defaultRuleSet, type DocRuleId } from '../src/shared/data/rules'
import { fingerprint } from '../src/worker/data/dedup/fingerprint'
import { extractFeatures } from '../src/worker/data/quality/features'
import { applyRules } from '../src/worker/data/rules'
import { estimateTokens } from '../src/worker/data/text/view'
import { syntheticCorpus } from '../test/helpers/synthetic-corpus'

const { values: args } = parseArgs({
  options: {
    mb: { type: 'string', default: '10' },
    repeat: { type: 'string', default: '5' },
  },
})

const texts: string[] = []
let bytes = 0
for (const doc of syntheticCorpus(2024)) {
  if (bytes >= Number(args.mb) * 1e6) break
  texts.push(doc.text)
  bytes += Buffer.byteLength(doc.text)
}

const ruleSet = defaultRuleSet()
const near = ruleSet.dedup.near
type Stage = DocRuleId | 'rule_loop' | 'fingerprint' | 'features' | 'token_estimate'

/** One pass over the corpus; milliseconds per stage. */
function pass(): Map<Stage, number> {
  const spent = new Map<Stage, number>()
  const timed = <T>(stage: Stage, body: () => T): T => {
    const start = performance.now()
    const value = body()
    spent.set(stage, (spent.get(stage) ?? 0) + performance.now() - start)
    return value
  }
  for (const text of texts) {
    // The clean job's own rule loop, each rule's run timed; what the loop itself costs
    // (its records, the redaction spans) is the 'rule_loop' stage.
    let inRules = 0
    const r = timed('rule_loop', () =>
      applyRules(text, ruleSet.rules, (id, run) => {
        const start = performance.now()
        const result = run()
        const ms = performance.now() - start
        inRules += ms
        spent.set(id, (spent.get(id) ?? 0) + ms)
        return result
      }),
    )
    spent.set('rule_loop', spent.get('rule_loop')! - inRules)
    if (r.action !== 'remove')
      timed('fingerprint', () =>
        fingerprint(r.cleaned, {
          shingleWords: near.shingleWords,
          bins: near.bands * near.rows,
          signature: near.enabled,
        }),
      )
    timed('features', () => extractFeatures(r.cleaned))
    timed('token_estimate', () => estimateTokens(r.cleaned))
  }
  return spent
}

pass() // warm-up: compile the hot paths before measuring
const best = new Map<Stage, number>()
for (let r = 0; r < Number(args.repeat); r++)
  for (const [stage, ms] of pass()) best.set(stage, Math.min(best.get(stage) ?? Infinity, ms))

const totalMs = [...best.values()].reduce((a, b) => a + b, 0)
const micros = (ms: number) => Math.round((ms * 1000) / texts.length)
const result = {
  corpus: { mb: Number((bytes / 1e6).toFixed(1)), documents: texts.length },
  repeat: Number(args.repeat),
  microsecondsPerDocument: micros(totalMs),
  mbPerCpuSecond: Number((bytes / 1e6 / (totalMs / 1000)).toFixed(2)),
  stages: Object.fromEntries(
    [...best]
      .sort((a, b) => b[1] - a[1])
      .map(([stage, ms]) => [
        stage,
        { microsecondsPerDocument: micros(ms), share: Number((ms / totalMs).toFixed(3)) },
      ]),
  ),
}
process.stdout.write(`${JSON.stringify(result, null, 2)}\n`)
