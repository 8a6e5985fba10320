import type { Command } from 'commander'
import { resolve } from 'node:path'
import { Store } from '../store'
import { UserError } from '../shared/errors'
import { dtypesOf, exportFormats, type ExportDtype, type ExportFormat } from '../shared/export'
import { projectFromCli } from './paths'
import { generateOptionsSchema } from '../shared/generate'
import { runCommand } from './output'
import { runJobInProcess } from './run-job'

interface Common {
  run: string
  checkpoint?: string
  db: string
  json?: boolean
}

const int = (value: string, field: string): number => {
  const n = Number(value)
  if (!Number.isInteger(n))
    throw new UserError('invalid_params', `--${field} takes a whole number, not "${value}".`, field)
  return n
}

/** The checkpoint `--run` and `--checkpoint` name (the run's newest without the latter). */
function checkpointRef(db: string, opts: { run: string; checkpoint?: string }) {
  return {
    runId: resolveRun(db, opts.run),
    checkpointId: opts.checkpoint ? int(opts.checkpoint, 'checkpoint') : null,
  }
}

/** A run by id, or by name when one run has it. */
function resolveRun(db: string, ref: string): string {
  const store = Store.open(db)
  try {
    if (store.runs.get(ref)) return ref
    const named = store.runs.list().filter((r) => r.name === ref)
    if (named.length === 1) return named[0].id
    throw new UserError(
      'not_found',
      named.length > 1
        ? `Several runs are named "${ref}": give the run's id.`
        : `There is no run "${ref}".`,
      'run',
    )
  } finally {
    store.close()
  }
}

/** `frugal export`, `frugal eval`, `frugal generate`: what to do with a trained checkpoint. */
export function registerModelCommands(program: Command, defaultDb: string): void {
  program
    .command('export')
    .description(
      'write a checkpoint as a Hugging Face model folder (safetensors, config, tokenizer, card), or as a GGUF file for llama.cpp, Ollama and LM Studio',
    )
    .requiredOption('--run <run>', 'the run (id or name)')
    .option('--checkpoint <id>', 'a checkpoint of the run (default: its newest)')
    .requiredOption('--out <path>', 'a new or empty folder (hf, peft), or a new .gguf file (gguf)')
    .option(
      '--format <format>',
      "hf (a Hugging Face folder), gguf (one file), or peft (a LoRA run's adapters alone)",
      'hf',
    )
    .option(
      '--dtype <dtype>',
      'hf: fp32, bf16 or fp16; gguf: f32, f16 or q8_0 (8-bit, with its perplexity measured)',
      'fp32',
    )
    .option('--db <file>', 'project file', defaultDb)
    .option('--json', 'print the result as JSON')
    .action((opts: Common & { out: string; dtype: string; format: string }) =>
      runCommand(!!opts.json, async (out) => {
        const db = projectFromCli(opts.db)
        const format = opts.format as ExportFormat
        if (!exportFormats.includes(format))
          throw new UserError(
            'invalid_params',
            `--format is hf, gguf or peft, not "${opts.format}".`,
            'format',
          )
        // GGUF's own names for its precisions, as llama.cpp's tools write them.
        const dtype = ({ f32: 'fp32', f16: 'fp16' }[opts.dtype] ?? opts.dtype) as ExportDtype
        if (!dtypesOf[format].includes(dtype))
          throw new UserError(
            'invalid_params',
            format === 'gguf'
              ? `--dtype for GGUF is f32, f16 or q8_0, not "${opts.dtype}".`
              : opts.dtype === 'int8'
                ? '--dtype int8 wrote a folder only Frugal could read; for 8-bit weights that llama.cpp, Ollama and LM Studio run, use --format gguf --dtype q8_0.'
                : `--dtype is fp32, bf16 or fp16, not "${opts.dtype}".`,
            'dtype',
          )
        const r = await runJobInProcess(
          'model.export',
          {
            ...checkpointRef(db, opts),
            out: resolve(opts.out),
            format,
            dtype,
          },
          db,
          out,
        )
        out.result(r, (v) =>
          [
            `Exported ${v.parameters.toLocaleString('en')} parameters (${v.dtype}) to ${v.dir}:`,
            ...v.files.map((f) => `  ${f}`),
            v.quantization
              ? `Perplexity ${v.quantization.fp32.perplexity.toFixed(3)} (fp32) -> ${v.quantization.quantized.perplexity.toFixed(3)} (${v.quantization.dtype}) on ${v.quantization.fp32.tokens.toLocaleString('en')} validation tokens`
              : '',
          ]
            .filter(Boolean)
            .join('\n'),
        )
      }),
    )

  program
    .command('import-model')
    .description(
      'bring a model folder (config.json, model.safetensors, tokenizer.json) into the project as a run, to sample, evaluate, or start new runs from',
    )
    .argument('<dir>', 'the folder: a Frugal export, or a Llama-style model Frugal can run')
    .requiredOption('--name <name>', 'what to call it in the project')
    .option('--db <file>', 'project file', defaultDb)
    .option('--json', 'print the result as JSON')
    .action((dir: string, opts: { name: string; db: string; json?: boolean }) =>
      runCommand(!!opts.json, async (out) => {
        const db = projectFromCli(opts.db)
        const r = await runJobInProcess(
          'model.import',
          { path: resolve(dir), name: opts.name },
          db,
          out,
        )
        out.result(
          r,
          (v) =>
            `Imported ${v.name} as run ${v.runId}: ${v.parameters.toLocaleString('en')} parameters (${v.dtype}), tokenizer "${v.tokenizerName}".`,
        )
      }),
    )

  program
    .command('eval')
    .description(
      "measure a checkpoint: perplexity (the run's validation split, or a dataset) or multiple-choice accuracy (MMLU-layout CSV files)",
    )
    .requiredOption('--run <run>', 'the run (id or name)')
    .option('--checkpoint <id>', 'a checkpoint of the run (default: its newest)')
    .option('--kind <kind>', 'perplexity or mc', 'perplexity')
    .option(
      '--dataset <name>',
      'perplexity: measure on this whole dataset, not the validation split',
    )
    .option('--max-tokens <n>', 'perplexity: tokens to evaluate at most', '1000000')
    .option('--data <dir>', 'mc: a folder of MMLU-layout files (test/ and dev/, or CSV files)')
    .option('--shots <k>', 'mc: solved dev examples before each question', '0')
    .option('--limit <n>', 'mc: questions per subject at most')
    .option('--db <file>', 'project file', defaultDb)
    .option('--json', 'print the result as JSON')
    .action(
      (
        opts: Common & {
          kind: string
          dataset?: string
          maxTokens: string
          data?: string
          shots: string
          limit?: string
        },
      ) =>
        runCommand(!!opts.json, async (out) => {
          const db = projectFromCli(opts.db)
          const { runId, checkpointId } = checkpointRef(db, opts)
          if (opts.kind === 'mc') {
            if (!opts.data)
              throw new UserError('invalid_params', '--kind mc needs --data DIR.', 'data')
            const r = await runJobInProcess(
              'eval.mc',
              {
                runId,
                checkpointId,
                data: resolve(opts.data),
                shots: int(opts.shots, 'shots'),
                limit: opts.limit ? int(opts.limit, 'limit') : null,
              },
              db,
              out,
            )
            for (const p of r.problems) out.note(`${p.file}:${p.line}: ${p.message}`)
            return out.result(r, (v) =>
              [
                `${(v.overall.accuracy * 100).toFixed(1)}% of ${v.overall.questions} questions (chance ${(v.overall.chance * 100).toFixed(1)}%), ${v.shots}-shot, checkpoint ${v.checkpointId} (step ${v.step})`,
                ...v.subjects.map(
                  (s) => `  ${s.name}: ${(s.accuracy * 100).toFixed(1)}% of ${s.questions}`,
                ),
              ].join('\n'),
            )
          }
          if (opts.kind !== 'perplexity')
            throw new UserError(
              'invalid_params',
              `--kind is perplexity or mc, not "${opts.kind}".`,
              'kind',
            )
          let datasetId: number | null = null
          if (opts.dataset) {
            const store = Store.open(db)
            try {
              const d = store.datasets.byName(opts.dataset)
              if (!d)
                throw new UserError(
                  'not_found',
                  `There is no dataset "${opts.dataset}".`,
                  'dataset',
                )
              datasetId = d.id
            } finally {
              store.close()
            }
          }
          const r = await runJobInProcess(
            'eval.perplexity',
            { runId, checkpointId, datasetId, maxTokens: int(opts.maxTokens, 'max-tokens') },
            db,
            out,
          )
          out.result(
            r,
            (v) =>
              `Perplexity ${v.perplexity.toFixed(3)} (loss ${v.loss.toFixed(4)}) on ${v.tokens.toLocaleString('en')} tokens of ${v.on}, checkpoint ${v.checkpointId} (step ${v.step}), in ${(v.wallMs / 1000).toFixed(1)} s`,
          )
        }),
    )

  program
    .command('generate')
    .description('continue a prompt with a checkpoint, streaming the text')
    .requiredOption('--run <run>', 'the run (id or name)')
    .option('--checkpoint <id>', 'a checkpoint of the run (default: its newest)')
    .requiredOption('--prompt <text>', 'the text to continue')
    .option('--max-tokens <n>', 'tokens to generate at most', '200')
    .option('--temperature <t>', 'sampling temperature; 0 is greedy', '0.8')
    .option('--top-k <k>', 'sample among the k likeliest tokens (0: all)', '0')
    .option('--top-p <p>', 'sample within the top-p nucleus (1: all)', '1')
    .option('--stop <text...>', 'stop when the output ends with one of these')
    .option('--seed <n>', 'seed of the sampler', '0')
    .option(
      '--chat',
      "the prompt is a user's message: reply as the assistant, through the chat template",
    )
    .option('--db <file>', 'project file', defaultDb)
    .option('--json', 'JSON lines: one per token, then the summary')
    .action(
      (
        opts: Common & {
          prompt: string
          maxTokens: string
          temperature: string
          topK: string
          topP: string
          stop?: string[]
          seed: string
          chat?: boolean
        },
      ) =>
        runCommand(!!opts.json, async (out) => {
          const db = projectFromCli(opts.db)
          const parsed = generateOptionsSchema.safeParse({
            maxTokens: Number(opts.maxTokens),
            temperature: Number(opts.temperature),
            topK: Number(opts.topK),
            topP: Number(opts.topP),
            stop: opts.stop ?? [],
            seed: Number(opts.seed),
            chat: opts.chat === true,
          })
          if (!parsed.success) {
            const issue = parsed.error.issues[0]
            throw new UserError('invalid_params', `--${String(issue?.path[0])}: ${issue?.message}`)
          }
          // The prompt leads the text it continues, once the job has passed its checks.
          let promptShown = out.json || parsed.data.chat
          const showPrompt = () => {
            if (!promptShown) process.stdout.write(opts.prompt)
            promptShown = true
          }
          const r = await runJobInProcess(
            'model.generate',
            {
              ...checkpointRef(db, opts),
              prompt: opts.prompt,
              options: parsed.data,
            },
            db,
            out,
            {
              onProgress: () => {}, // the text itself shows the progress
              onOutput: (text, id) => {
                showPrompt()
                if (out.json)
                  process.stdout.write(`${JSON.stringify({ type: 'token', id, text })}\n`)
                else process.stdout.write(text)
              },
            },
          )
          if (out.json) process.stdout.write(`${JSON.stringify({ type: 'summary', ...r })}\n`)
          else {
            showPrompt()
            process.stdout.write('\n')
            out.note(
              `${r.tokens} tokens (${r.stop}) at ${r.tokensPerSecond.toFixed(1)} tokens/s, prompt ${r.promptTokens} tokens in ${r.promptMs.toFixed(0)} ms`,
            )
          }
        }),
    )

  program
    .command('score')
    .description(
      'rank replies to a prompt with a reward model (a run trained with train.kind "reward"), best first',
    )
    .requiredOption('--run <run>', 'the reward model run (id or name)')
    .option('--checkpoint <id>', 'a checkpoint of the run (default: its newest)')
    .requiredOption('--prompt <text>', 'the prompt the replies answer')
    .requiredOption('--reply <text...>', 'the replies to score (one or more)')
    .option('--chat', "the prompt is a user's message and each reply the assistant's, as in --chat")
    .option('--db <file>', 'project file', defaultDb)
    .option('--json', 'JSON: the replies with their scores, best first')
    .action((opts: Common & { prompt: string; reply: string[]; chat?: boolean }) =>
      runCommand(!!opts.json, async (out) => {
        const db = projectFromCli(opts.db)
        const r = await runJobInProcess(
          'model.score',
          {
            ...checkpointRef(db, opts),
            prompt: opts.prompt,
            replies: opts.reply,
            chat: opts.chat === true,
          },
          db,
          out,
          { onProgress: () => {} },
        )
        if (out.json)
          process.stdout.write(
            `${JSON.stringify({ runId: r.runId, checkpointId: r.checkpointId, ranked: r.ranked })}\n`,
          )
        else
          for (const x of r.ranked)
            process.stdout.write(`${x.score.toFixed(3).padStart(9)}  ${x.reply}\n`)
      }),
    )
}
