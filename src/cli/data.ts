import type { Command } from 'commander'
import { readFileSync, writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { Store } from '../store'
import type { DatasetSummary } from '../shared/types'
import type { PendingDeletion } from '../store/repos/datasets'
import { checkNewFile } from '../main/user-paths'
import { fromWorkingDir, projectFromCli } from './paths'
import { defaultRuleSet, ruleSetSchema, type RuleSet } from '../shared/data/rules'
import { importFormats, type ImportFormat } from '../shared/data/types'
import { UserError } from '../shared/errors'
import { formatBytes, runCommand } from './output'
import { countOf } from '../shared/plural'
import { checkInProject, runJobInProcess } from './run-job'
import { arithmeticTask } from '../worker/grpo/toy-task'

interface DbOptions {
  db: string
  json?: boolean
}

/** The id of a dataset named on the command line, or a message listing the ones there are. */
function datasetId(db: string, name: string): number {
  const store = Store.open(db)
  try {
    return datasetIn(store, name).id
  } finally {
    store.close()
  }
}

function datasetIn(store: Store, name: string): DatasetSummary {
  const found = store.datasets.byName(name.trim())
  if (found) return found
  const names = store.datasets.list().map((d) => d.name)
  throw new UserError(
    'not_found',
    `There is no dataset "${name}".${names.length ? ` Datasets: ${names.join(', ')}.` : ' Import one with `frugal data import`.'}`,
    'dataset',
  )
}

/**
 * Mark a dataset for deletion as the app does (`data.deleteDataset`), unless a job of
 * this or another process holds it; or find one whose deletion was cut short, to finish.
 */
function markForDeletion(db: string, name: string): PendingDeletion {
  const store = Store.open(db)
  try {
    const now = new Date().toISOString()
    const wanted = name.trim()
    const pending = store.datasets.pendingDeletions().find((d) => d.name === wanted)
    if (pending && !store.datasets.byName(wanted)) return pending
    const dataset = datasetIn(store, wanted)
    checkInProject({ kind: 'data.delete', params: { datasetId: dataset.id } }, store)
    return store.datasets.markForDeletion(dataset.id, now)
  } finally {
    store.close()
  }
}

/** A rules file: JSON in the shape `frugal data rules` prints; omitted fields take their defaults. */
function readRules(path: string): RuleSet {
  let raw: unknown
  try {
    raw = JSON.parse(readFileSync(resolve(path), 'utf8'))
  } catch (err) {
    throw new UserError(
      'invalid_params',
      `Cannot read rules from ${path}: ${(err as Error).message}`,
      'rules',
    )
  }
  const parsed = ruleSetSchema.safeParse(raw)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    throw new UserError(
      'invalid_params',
      `Invalid rules in ${path} at ${issue?.path.join('.') || '(top)'}: ${issue?.message}`,
      'rules',
    )
  }
  return parsed.data
}

/** `frugal data …`: import, clean, export and inspect datasets with the app's own job code. */
export function registerDataCommands(program: Command, defaultDb: string): void {
  const data = program.command('data').description('import, clean, export and inspect datasets')

  data
    .command('import <path...>')
    .description(
      'import files or folders (txt, jsonl, csv, parquet, html, and .gz of these) into a dataset',
    )
    .requiredOption('--dataset <name>', 'dataset to create, or to add to')
    .option('--format <format>', `auto or one of ${importFormats.slice(1).join(', ')}`, 'auto')
    .option(
      '--text-field <field>',
      'JSONL/CSV/Parquet field holding the text (default: text, content, body…)',
    )
    .option('--db <file>', 'project file', defaultDb)
    .option('--json', 'print {dataset, imported, skipped, errors} as JSON on stdout')
    .action(
      (
        paths: string[],
        opts: DbOptions & { dataset: string; format: string; textField?: string },
      ) =>
        runCommand(!!opts.json, async (out) => {
          if (!(importFormats as readonly string[]).includes(opts.format))
            throw new UserError(
              'invalid_params',
              `--format must be one of ${importFormats.join(', ')}.`,
              'format',
            )
          const db = projectFromCli(opts.db)
          const report = await runJobInProcess(
            'data.import',
            {
              dataset: opts.dataset,
              paths: paths.map((p) => resolve(p)),
              format: opts.format as ImportFormat,
              ...(opts.textField ? { textField: opts.textField } : {}),
            },
            db,
            out,
          )
          out.result(
            {
              dataset: report.dataset,
              imported: report.imported,
              skipped: report.skipped,
              errors: report.errors,
              datasetId: report.datasetId,
              files: report.files,
              bytes: report.bytes,
            },
            (r) =>
              [
                `Imported ${countOf(r.imported, 'document')} into "${r.dataset}" from ${countOf(r.files, 'file')} (${formatBytes(r.bytes)}).`,
                ...(r.skipped ? [`Skipped ${r.skipped}:`] : []),
                ...r.errors
                  .slice(0, 50)
                  .map((e) => `  ${e.file}${e.line ? `:${e.line}` : ''}: ${e.message}`),
              ].join('\n'),
          )
        }),
    )

  data
    .command('clean')
    .description('run the cleaning rules, deduplication and the quality model over a dataset')
    .requiredOption('--dataset <name>', 'dataset to clean')
    .option(
      '--rules <file>',
      'rules as JSON (see `frugal data rules`); default: the dataset’s saved rules',
    )
    .option('--db <file>', 'project file', defaultDb)
    .option('--json', 'print {kept, removed, modified, review, byRule} as JSON on stdout')
    .action((opts: DbOptions & { dataset: string; rules?: string }) =>
      runCommand(!!opts.json, async (out) => {
        const db = projectFromCli(opts.db)
        const rules = opts.rules ? readRules(opts.rules) : undefined
        const r = await runJobInProcess(
          'data.clean',
          { datasetId: datasetId(db, opts.dataset), ...(rules ? { rules } : {}) },
          db,
          out,
        )
        out.result(
          {
            kept: r.kept,
            removed: r.removed,
            modified: r.modified,
            review: r.review,
            byRule: r.byRule,
            documents: r.documents,
            duplicateClusters: r.duplicateClusters,
            model: r.model,
            timings: r.timings,
          },
          (s) =>
            [
              `${countOf(s.documents, 'document')}: ${s.kept} kept, ${s.modified} kept with changes, ${s.removed} removed, ${s.review} to review.`,
              ...Object.entries(s.byRule).map(([rule, n]) => `  ${rule}: ${n}`),
              s.model
                ? `Quality model: held-out accuracy ${s.model.holdoutAccuracy === null ? 'n/a' : `${Math.round(s.model.holdoutAccuracy * 100)}%`} (${s.model.trainedOn}).`
                : '',
            ]
              .filter(Boolean)
              .join('\n'),
        )
      }),
    )

  data
    .command('export')
    .description(
      'write a dataset’s documents as JSON Lines: id, source, text (cleaned), status, reasons',
    )
    .requiredOption('--dataset <name>', 'dataset to export')
    .requiredOption('--out <file>', 'the .jsonl file to write')
    .option('--status <status>', 'kept, removed, review or all', 'kept')
    .option('--overwrite', 'replace the file if it exists')
    .option('--db <file>', 'project file', defaultDb)
    .option('--json', 'print {path, documents} as JSON on stdout')
    .action(
      (opts: DbOptions & { dataset: string; out: string; status: string; overwrite?: boolean }) =>
        runCommand(!!opts.json, async (out) => {
          if (!['kept', 'removed', 'review', 'all'].includes(opts.status))
            throw new UserError(
              'invalid_params',
              '--status must be kept, removed, review or all.',
              'status',
            )
          const db = projectFromCli(opts.db)
          const overwrite = !!opts.overwrite
          const r = await runJobInProcess(
            'data.export',
            {
              datasetId: datasetId(db, opts.dataset),
              status: opts.status as 'kept',
              out: fromWorkingDir(opts.out),
              overwrite,
            },
            db,
            out,
          )
          out.result(
            { path: r.path, documents: r.documents },
            (x) => `Wrote ${countOf(x.documents, 'document')} to ${x.path}`,
          )
        }),
    )

  data
    .command('stats')
    .description(
      'documents, characters, estimated tokens, languages, removals by rule, scores, duplicates',
    )
    .requiredOption('--dataset <name>', 'dataset')
    .option('--db <file>', 'project file', defaultDb)
    .option('--json', 'print the statistics as JSON on stdout')
    .action((opts: DbOptions & { dataset: string }) =>
      runCommand(!!opts.json, (out) => {
        const db = projectFromCli(opts.db)
        const id = datasetId(db, opts.dataset)
        const store = Store.open(db)
        try {
          out.result(store.dataStats.stats(id), (s) =>
            [
              `Documents   ${s.documents} (${s.counts.kept} kept, ${s.counts.removed} removed, ${s.counts.review} to review, ${s.counts.pending} not cleaned)`,
              `Characters  ${s.characters}; ~${s.estimatedTokens} tokens (kept: ${s.kept.characters}; ~${s.kept.estimatedTokens} tokens)`,
              `Languages   ${s.languages.map((l) => `${l.language} ${l.documents}`).join(', ') || '—'}`,
              `By rule     ${s.byRule.map((r) => `${r.rule} ${r.removed}${r.review ? `+${r.review} review` : ''}`).join(', ') || '—'}`,
              `Duplicates  ${countOf(s.duplicates.clusters, 'cluster')}, ${s.duplicates.removed} removed`,
            ].join('\n'),
          )
        } finally {
          store.close()
        }
      }),
    )

  data
    .command('delete')
    .description('delete a dataset with its documents, labels, cleaning runs and quality models')
    .requiredOption('--dataset <name>', 'dataset to delete')
    .option('--db <file>', 'project file', defaultDb)
    .option('--json', 'print {dataset, documents} as JSON on stdout')
    .action((opts: DbOptions & { dataset: string }) =>
      runCommand(!!opts.json, async (out) => {
        const db = projectFromCli(opts.db)
        const target = markForDeletion(db, opts.dataset)
        const r = await runJobInProcess(
          'data.delete',
          { datasetId: target.datasetId },
          db,
          out,
        ).catch((err: unknown) => {
          if (err instanceof UserError && err.code === 'cancelled')
            throw new UserError(
              'cancelled',
              `Cancelled: "${target.name}" is hidden and partly deleted. Run this command again (or open the project in Frugal) to finish.`,
            )
          throw err
        })
        out.result(
          { dataset: r.name, documents: r.documents },
          (x) => `Deleted "${x.dataset}" (${countOf(x.documents, 'document')}).`,
        )
      }),
    )

  data
    .command('toy-task <task>')
    .description(
      'write a verifiable toy task as JSONL conversations to import (arithmetic: "What is 3+4?" → "7"), the task GRPO is shown on',
    )
    .requiredOption('--out <file>', 'JSONL file to write')
    .option('--count <n>', 'problems to write', '400')
    .option('--max <n>', 'largest first operand', '19')
    .option('--max-second <n>', 'largest second operand (default: --max)')
    .option('--operations <ops>', 'operations among + - *', '+')
    .option('--seed <n>', 'seed of the order', '1')
    .option('--overwrite', 'replace the file if it exists')
    .option('--json', 'print {path, records} as JSON on stdout')
    .action(
      (
        task: string,
        opts: {
          out: string
          count: string
          max: string
          maxSecond?: string
          operations: string
          seed: string
          overwrite?: boolean
          json?: boolean
        },
      ) =>
        runCommand(!!opts.json, (out) => {
          if (task !== 'arithmetic')
            throw new UserError('invalid_params', `There is no toy task "${task}"; try arithmetic.`)
          const int = (value: string, field: string, min: number, max: number) => {
            const n = Number(value)
            if (!Number.isInteger(n) || n < min || n > max)
              throw new UserError(
                'invalid_params',
                `--${field} must be a whole number from ${min} to ${max}.`,
                field,
              )
            return n
          }
          const operations = [...opts.operations.replace(/\s/g, '')]
          if (operations.length === 0 || operations.some((o) => !'+-*'.includes(o)))
            throw new UserError(
              'invalid_params',
              '--operations takes any of + - * (e.g. "+-").',
              'operations',
            )
          const records = arithmeticTask({
            count: int(opts.count, 'count', 1, 1_000_000),
            max: int(opts.max, 'max', 1, 1000),
            ...(opts.maxSecond !== undefined
              ? { maxSecond: int(opts.maxSecond, 'max-second', 1, 1000) }
              : {}),
            operations: [...new Set(operations)] as ('+' | '-' | '*')[],
            seed: int(opts.seed, 'seed', 0, 2 ** 31 - 1),
          })
          const target = checkNewFile(fromWorkingDir(opts.out), 'out', {
            overwrite: !!opts.overwrite,
          })
          writeFileSync(target, records.map((r) => JSON.stringify(r)).join('\n') + '\n')
          out.result(
            { path: target, records: records.length },
            (r) =>
              `Wrote ${countOf(r.records, 'problem')} to ${r.path}. Import it with \`frugal data import ${r.path} --dataset <name>\`.`,
          )
        }),
    )

  data
    .command('rules')
    .description('print the default cleaning rules as JSON, a starting point for --rules')
    .action(() => {
      process.stdout.write(`${JSON.stringify(defaultRuleSet(), null, 2)}\n`)
    })

  data
    .command('list')
    .description('list the datasets in a project')
    .option('--db <file>', 'project file', defaultDb)
    .option('--json', 'print JSON on stdout')
    .action((opts: DbOptions) =>
      runCommand(!!opts.json, (out) => {
        const store = Store.open(projectFromCli(opts.db))
        try {
          out.result(store.dataStats.summaries(), (list) =>
            list.length
              ? list
                  .map(
                    (d) => `${d.name}\t${countOf(d.documents, 'document')}\t${d.counts.kept} kept`,
                  )
                  .join('\n')
              : 'No datasets.',
          )
        } finally {
          store.close()
        }
      }),
    )
}
