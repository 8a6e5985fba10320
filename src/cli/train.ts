import type { Command } from 'commander'
import { readFileSync } from 'node:fs'
import { Store } from '../store'
import { UserError } from '../shared/errors'
import type { JobResults } from '../shared/jobs'
import { projectFromCli } from './paths'
import { checkpointRefs, createRun, parseRunFile } from '../worker/train/setup'
import { addChatTokens } from '../worker/sft/chat-tokenizer'
import { runCommand, type Output } from './output'
import { runJobInProcess } from './run-job'

interface TrainOptions {
  config?: string
  resume?: string
  db: string
  json?: boolean
}

function datasetId(store: Store, name: string): number {
  const d = store.datasets.byName(name)
  if (!d)
    throw new UserError(
      'not_found',
      `There is no dataset named "${name}". \`frugal data list\` shows them.`,
      'data.dataset',
    )
  return d.id
}

/** A tokenizer by name, or trained now from the run file's description. */
async function resolveTokenizer(
  store: Store,
  db: string,
  file: ReturnType<typeof parseRunFile>,
  dataset: number | null,
  out: Output,
): Promise<number> {
  const spec = file.data.tokenizer
  if (typeof spec === 'string') {
    const t = store.tokenizers.byName(spec)
    if (!t)
      throw new UserError(
        'not_found',
        `There is no tokenizer named "${spec}". Train one with \`frugal tokenizer train\`.`,
        'data.tokenizer',
      )
    return t.id
  }
  if (dataset === null)
    throw new UserError(
      'invalid_params',
      'data.tokenizer: without a dataset there is nothing to train a tokenizer on; name one (the model it starts from has its own).',
      'data.tokenizer',
    )
  const name =
    spec.name ??
    `${file.data.dataset}-${spec.kind}${spec.kind === 'bpe' ? `-${spec.vocabSize}` : ''}`
  const existing = store.tokenizers.byName(name)
  if (existing) return existing.id
  out.note(`Training tokenizer "${name}"…`)
  const r = await runJobInProcess(
    'tokenizer.train',
    {
      datasetId: dataset,
      name,
      kind: spec.kind,
      vocabSize: spec.vocabSize,
      minFrequency: spec.minFrequency,
    },
    db,
    out,
  )
  return r.tokenizerId
}

function describe(r: JobResults['train.run']): string {
  const loss = (x: number | null) => (x === null ? '—' : x.toFixed(4))
  return [
    `Run        ${r.runId} (${r.status} at step ${r.step})`,
    `Loss       train ${loss(r.trainLoss)}, validation ${loss(r.valLoss)} (best ${loss(r.bestValLoss)})`,
    `Speed      ${Math.round(r.tokensPerSec).toLocaleString('en')} tokens/s on ${r.backend}`,
    `Wall time  ${(r.wallMs / 1000).toFixed(1)} s`,
    r.checkpoint
      ? `Checkpoint ${r.checkpoint.id} (${r.checkpoint.kind}, ${(r.checkpoint.storedBytes / 1e6).toFixed(1)} MB)`
      : '',
  ]
    .filter(Boolean)
    .join('\n')
}

/** `frugal train` and `frugal tokenizer train`. */
export function registerTrainCommands(program: Command, defaultDb: string): void {
  program
    .command('train')
    .description(
      'train a model from a run.json (see docs/TRAINING.md), or resume a run from its last checkpoint',
    )
    .option('--config <file>', 'run.json describing data, model and training')
    .option('--resume <run>', 'continue this run from its latest checkpoint')
    .option('--db <file>', 'project file', defaultDb)
    .option('--json', 'JSON lines on stdout: one per step, then the summary')
    .action((opts: TrainOptions) =>
      runCommand(!!opts.json, async (out) => {
        if (!!opts.config === !!opts.resume)
          throw new UserError(
            'invalid_params',
            'Give either --config FILE (a new run) or --resume RUN.',
          )
        const db = projectFromCli(opts.db)
        let runId = opts.resume
        if (opts.config) {
          let raw: unknown
          try {
            raw = JSON.parse(readFileSync(opts.config, 'utf8'))
          } catch (err) {
            throw new UserError(
              'invalid_params',
              `Cannot read ${opts.config}: ${(err as Error).message}`,
              'config',
            )
          }
          const file = parseRunFile(raw)
          const store = Store.open(db)
          try {
            // A preference run may learn from Evaluate's A/B choices alone (createRun checks).
            const dataset = file.data.dataset ? datasetId(store, file.data.dataset) : null
            const tokenizerId = await resolveTokenizer(store, db, file, dataset, out)
            const run = createRun(store, {
              name: file.name ?? file.data.dataset ?? 'preferences',
              model: file.model,
              train: file.train,
              data: {
                datasetId: dataset,
                tokenizerId,
                valFraction: file.data.valFraction,
                ...checkpointRefs(store, file),
              },
            })
            runId = run.id
            out.note(`Created run ${run.id}.`)
          } finally {
            store.close()
          }
        }
        let lastNote = 0
        const summary = await runJobInProcess('train.run', { runId: runId! }, db, out, {
          onProgress: (p) => {
            if (p.unit !== 'steps')
              return out.note(
                `${p.message ?? 'Preparing'}: ${p.done}${p.total === null ? '' : ` / ${p.total}`} ${p.unit}`,
              )
            if (out.json)
              process.stdout.write(
                `${JSON.stringify({ type: 'step', step: p.done, ...p.metrics })}\n`,
              )
            if (Date.now() - lastNote > 2000 || p.done === p.total) {
              lastNote = Date.now()
              const m = p.metrics ?? {}
              out.note(
                `step ${p.done}/${p.total}  loss ${m.loss?.toFixed(4)}${m.grpo_reward !== undefined ? `  reward ${m.grpo_reward.toFixed(3)}  KL ${m.grpo_kl?.toFixed(4)}` : ''}${m.val_loss !== undefined ? `  val ${m.val_loss.toFixed(4)}` : ''}  ${Math.round(m.tokens_per_sec ?? 0)} tok/s`,
              )
            }
          },
        })
        out.result(out.json ? { type: 'summary', ...summary } : summary, (s) => describe(s))
      }),
    )

  const tokenizer = program.command('tokenizer').description('train and inspect tokenizers')
  tokenizer
    .command('train')
    .description("train a byte-level BPE (or character) tokenizer on a dataset's corpus")
    .requiredOption('--dataset <name>', 'dataset to learn the vocabulary from')
    .option('--vocab <n>', 'vocabulary size, special tokens included', '4096')
    .option('--kind <kind>', 'bpe or char', 'bpe')
    .option('--min-frequency <n>', 'merge only pairs seen at least this often', '2')
    .option('--name <name>', 'tokenizer name (default: <dataset>-<kind>-<vocab>)')
    .option('--db <file>', 'project file', defaultDb)
    .option('--json', 'print the result as JSON on stdout')
    .action(
      (opts: {
        dataset: string
        vocab: string
        kind: string
        minFrequency: string
        name?: string
        db: string
        json?: boolean
      }) =>
        runCommand(!!opts.json, async (out) => {
          const db = projectFromCli(opts.db)
          if (opts.kind !== 'bpe' && opts.kind !== 'char')
            throw new UserError('invalid_params', '--kind must be bpe or char.')
          const store = Store.open(db)
          let dataset: number
          try {
            dataset = datasetId(store, opts.dataset)
          } finally {
            store.close()
          }
          const vocabSize = Number(opts.vocab)
          const name =
            opts.name ?? `${opts.dataset}-${opts.kind}${opts.kind === 'bpe' ? `-${vocabSize}` : ''}`
          const r = await runJobInProcess(
            'tokenizer.train',
            {
              datasetId: dataset,
              name,
              kind: opts.kind,
              vocabSize,
              minFrequency: Number(opts.minFrequency),
            },
            db,
            out,
          )
          out.result(
            r,
            (x) =>
              `Tokenizer "${x.name}" (id ${x.tokenizerId}): ${x.vocabSize} ids, ${x.bytesPerToken.toFixed(2)} bytes per token, ${x.seconds.toFixed(1)} s`,
          )
        }),
    )
  tokenizer
    .command('add-chat-tokens')
    .description(
      "a new tokenizer: this one with ChatML's <|im_start|> and <|im_end|> added after its last id (the others unchanged) and ChatML as its chat template, to fine-tune a model trained on this one into a chat model",
    )
    .requiredOption('--tokenizer <name>', 'the tokenizer to extend')
    .option('--name <name>', 'the new tokenizer (default: <tokenizer>-chat)')
    .option('--db <file>', 'project file', defaultDb)
    .option('--json', 'print the result as JSON on stdout')
    .action((opts: { tokenizer: string; name?: string; db: string; json?: boolean }) =>
      runCommand(!!opts.json, (out) => {
        const store = Store.open(projectFromCli(opts.db))
        try {
          const base = store.tokenizers.byName(opts.tokenizer)
          if (!base)
            throw new UserError(
              'not_found',
              `There is no tokenizer "${opts.tokenizer}".`,
              'tokenizer',
            )
          const r = store.write(() => addChatTokens(store, base.id, opts.name))
          out.result(
            { tokenizerId: r.id, name: r.name, vocabSize: r.vocabSize, added: r.added },
            (x) =>
              `Tokenizer "${x.name}" (id ${x.tokenizerId}): ${x.vocabSize} ids, <|im_start|> ${x.added[0]} and <|im_end|> ${x.added[1]} added, ChatML as its chat template`,
          )
        } finally {
          store.close()
        }
      }),
    )
}
