import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { Store } from '../../../src/store'
import { defaultRuleSet, type RuleSet } from '../../../src/shared/data/rules'
import { runImport } from '../../../src/worker/data/import/importer'
import { runClean } from '../../../src/worker/data/pipeline/clean'
import { exportJsonl } from '../../../src/worker/data/export'
import { trainChar } from '../../../src/worker/tokenizer'
import { encodeDataset } from '../../../src/worker/train/encode'
import { quietJobDeps } from '../../helpers/job-deps'
import { useTempDir } from '../../helpers/temp'
import { sqlOf } from '../../helpers/sql'

const tempDir = useTempDir('frugal-pii-override-')

/** Personal data a short document carries, and what must never reach training data. */
const personal = ['jane.doe@example.com', '+44 20 7946 0958', '4111 1111 1111 1111']
/** Long enough for Gopher's word counts, but two sentences: C4 removes it (5 at least). */
const shortNote =
  `Questions? Write to ${personal[0]} or call ${personal[1]} any weekday between nine in the ` +
  'morning and five in the afternoon, and the office will answer your letter about the new ' +
  'harbour wall, the tide gates, the quay, the parking by the beach, the summer ferry ' +
  `timetable and the fishing permits within the week, or pay the permit fee with card ${personal[2]} ` +
  'at the harbour office desk, which stands beside the lifeboat station at the end of the ' +
  'quay and keeps the tide tables, the ferry tickets and the lost property of the summer.'

/** Long, clean articles the rules keep: enough for a dataset worth encoding. */
const article = (i: number) =>
  `Article ${i}. The harbour town rebuilt its sea wall after the winter storms. ` +
  'Engineers raised the wall by a metre and added gates that close at high tide. ' +
  'Fishermen say the new quay is safer to work from, even in a strong swell. ' +
  'The council paid for most of the work from a flood defence grant. ' +
  'Residents were invited to walk along the finished wall on Sunday morning. ' +
  'Local schools sent their pupils to watch the first gates close in the evening.'

function project(dir: string) {
  const store = Store.create(join(dir, 'p.frugal'))
  const file = join(dir, 'corpus.jsonl')
  const docs = [...Array.from({ length: 30 }, (_, i) => article(i)), shortNote]
  writeFileSync(file, docs.map((text) => JSON.stringify({ text })).join('\n'))
  return { store, file }
}

async function importAndClean(store: Store, file: string, rules: RuleSet) {
  const { datasetId } = await runImport(
    { dataset: 'notes', paths: [file], format: 'auto' },
    quietJobDeps(store),
  )
  await runClean(datasetId, rules, quietJobDeps(store))
  const id = sqlOf(store)
    .prepare<[string], { id: number }>(`SELECT id FROM documents WHERE text = ?`)
    .get(shortNote)!.id
  return { datasetId, id }
}

/** Every place a kept document's text goes: the document, its token shards, a JSONL export. */
async function trainingText(store: Store, datasetId: number, dir: string): Promise<string> {
  const texts = sqlOf(store)
    .prepare<[number], { text: string }>(
      `SELECT coalesce(cleaned_text, text) AS text FROM documents WHERE dataset_id = ? AND status = 'kept'`,
    )
    .all(datasetId)
    .map((r) => r.text)
  const { tokenizer } = await trainChar(texts)
  const tokenizerId = store.tokenizers.insert({
    name: 'chars',
    kind: 'char',
    vocabSize: tokenizer.vocabSize,
    datasetId,
    options: { kind: 'char' },
    stats: null,
    json: tokenizer.serialize(),
    createdAt: new Date().toISOString(),
  })
  const { tokenSetId } = encodeDataset(store, tokenizer, {
    datasetId,
    tokenizerId,
    valFraction: 0.1,
  })
  const shards = ['train', 'val'].map((split) =>
    tokenizer.decode([...store.tokenSets.read(tokenSetId, split as 'train' | 'val')]),
  )
  const out = join(dir, 'kept.jsonl')
  await exportJsonl(
    store,
    datasetId,
    'kept',
    out,
    () => undefined,
    () => undefined,
  )
  return [...shards, readFileSync(out, 'utf8')].join('\n')
}

const withoutPersonalData = (text: string) =>
  personal.filter((p) => text.includes(p) || text.includes(p.replaceAll(' ', '')))

describe('personal data through a human override', () => {
  it('a document removed before PII redaction and kept by a reviewer reaches no training data with its personal data', async () => {
    const dir = tempDir()
    const { store, file } = project(dir)
    const { datasetId, id } = await importAndClean(store, file, defaultRuleSet())

    // C4 runs before PII redaction in the default order, and removes it (one sentence).
    const removed = store.documentQueries.detail(id)!
    expect(removed).toMatchObject({ status: 'removed', decisionRule: 'c4' })
    const rules = defaultRuleSet().rules.map((r) => r.id)
    expect(rules.indexOf('c4')).toBeLessThan(rules.indexOf('pii'))

    // Review shows it redacted, as it shows any kept document that cleaning changed.
    expect(removed.modified).toBe(true)
    expect(removed.cleanedText).toContain('<EMAIL>')
    expect(removed.cleanedText).toContain('<PHONE>')
    expect(removed.cleanedText).toContain('<CREDIT_CARD>')
    expect(withoutPersonalData(removed.cleanedText!)).toEqual([])
    expect(removed.redactions.map((r) => r.type).sort()).toEqual(['CREDIT_CARD', 'EMAIL', 'PHONE'])
    // Its record says why: C4 removed it, then PII redaction still ran on its text.
    expect(removed.reasons.slice(-2)).toMatchObject([
      { rule: 'c4', action: 'remove', check: 'min_sentences' },
      {
        rule: 'pii',
        action: 'modify',
        note: 'Redacted 1 email, 1 phone, 1 creditCard in the removed text.',
      },
    ])
    // The original is kept (the "Original" view), not trained on.
    expect(removed.text).toBe(shortNote)

    store.review.decide(id, 'keep', new Date().toISOString())
    expect(store.documentQueries.detail(id)!.status).toBe('kept')

    const everything = await trainingText(store, datasetId, dir)
    expect(everything).toContain('Write to <EMAIL> or call <PHONE> any weekday')
    expect(withoutPersonalData(everything)).toEqual([])
    store.close()
  })

  it('a bulk keep of a queue, whatever the rule order and whichever rule removed', async () => {
    const dir = tempDir()
    const { store, file } = project(dir)
    // PII first and set to remove over 2 hits: it removes the note itself, and must still
    // redact it; a blocklist in redact mode placed after it redacts too.
    const base = defaultRuleSet()
    const pii = base.rules.find((r) => r.id === 'pii')!
    const rules: RuleSet = {
      ...base,
      rules: [
        { ...pii, params: { ...pii.params, removeAboveHits: 2 } },
        ...base.rules
          .filter((r) => r.id !== 'pii')
          .map((r) =>
            r.id === 'blocklist'
              ? { ...r, enabled: true, params: { words: ['Questions'], action: 'redact' as const } }
              : r,
          ),
      ],
    }
    const { datasetId, id } = await importAndClean(store, file, rules)
    const removed = store.documentQueries.detail(id)!
    expect(removed).toMatchObject({ status: 'removed', decisionRule: 'pii' })
    expect(removed.cleanedText).toMatch(/^<BLOCKED>\? Write to <EMAIL>/)
    const piiOutcome = removed.reasons.find((r) => r.rule === 'pii')!
    expect(piiOutcome.action).toBe('remove')
    expect(piiOutcome.note).toMatch(
      /limit 2\)\. Redacted 1 email, 1 phone, 1 creditCard in the removed text\.$/,
    )

    store.review.bulk(
      { datasetId, source: { kind: 'rule', rule: 'pii' } },
      { field: 'decision', decision: 'keep' },
      new Date().toISOString(),
    )
    expect(store.documentQueries.detail(id)!.status).toBe('kept')
    const everything = await trainingText(store, datasetId, dir)
    expect(everything).toContain('<BLOCKED>? Write to <EMAIL>')
    expect(withoutPersonalData(everything)).toEqual([])
    store.close()
  })
})
