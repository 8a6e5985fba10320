import { parse } from 'csv-parse/sync'
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { basename, join } from 'node:path'
import { UserError } from '../../shared/errors'
import { documentStart, type Tokenizer } from '../tokenizer'
import type { Decoder } from './decoder'

/**
 * Multiple-choice benchmarks in the MMLU CSV layout: one file per subject, no header, rows
 * `question, A, B, C, D, answer-letter`. A choice's score is the summed log-likelihood of
 * its text given the question (and, k-shot, solved examples from the subject's dev file);
 * the highest score is the model's answer.
 */

export interface McQuestion {
  question: string
  choices: string[]
  /** Index of the right choice. */
  answer: number
}

export interface McSubject {
  name: string
  test: McQuestion[]
  dev: McQuestion[]
}

export interface McProblem {
  file: string
  line: number
  message: string
}

const LETTERS = ['A', 'B', 'C', 'D', 'E', 'F', 'G', 'H']

/** One file's questions, with the rows that could not be read. */
export function parseMcCsv(
  text: string,
  file: string,
): { questions: McQuestion[]; problems: McProblem[] } {
  // With `info`, each record says the line it ends on (a quoted field may span lines).
  // (csv-parse's types do not follow the `info` option.)
  const rows = parse(text, {
    relax_column_count: true,
    skip_empty_lines: true,
    bom: true,
    info: true,
  }) as unknown as { record: string[]; info: { lines: number } }[]
  const questions: McQuestion[] = []
  const problems: McProblem[] = []
  rows.forEach(({ record: row, info }) => {
    const line = info.lines
    if (row.length < 4)
      return void problems.push({
        file,
        line,
        message: `${row.length} fields; a question, at least two choices and an answer letter are needed`,
      })
    const letter = row[row.length - 1].trim().toUpperCase()
    const choices = row.slice(1, -1)
    const answer = LETTERS.indexOf(letter)
    if (answer < 0 || answer >= choices.length)
      return void problems.push({
        file,
        line,
        message: `the answer "${letter}" is not one of ${LETTERS.slice(0, choices.length).join(', ')}`,
      })
    questions.push({ question: row[0], choices, answer })
  })
  return { questions, problems }
}

const subjectOf = (file: string) =>
  basename(file)
    .replace(/(_test|_dev|_val)?\.csv$/i, '')
    .replace(/_/g, ' ')

/**
 * Read a benchmark folder: MMLU's own layout (`test/x_test.csv`, `dev/x_dev.csv`) or one
 * folder of CSV files (`x_test.csv` or `x.csv` for questions, `x_dev.csv` for examples).
 */
export function readMcFolder(dir: string): { subjects: McSubject[]; problems: McProblem[] } {
  if (!existsSync(dir) || !statSync(dir).isDirectory())
    throw new UserError('not_found', `There is no folder at ${dir}.`, 'data')
  const testDir = existsSync(join(dir, 'test')) ? join(dir, 'test') : dir
  const devDir = existsSync(join(dir, 'dev')) ? join(dir, 'dev') : dir
  const csvs = (d: string) =>
    readdirSync(d)
      .filter((f) => f.toLowerCase().endsWith('.csv'))
      .sort()
  const problems: McProblem[] = []
  const read = (path: string) => {
    const r = parseMcCsv(readFileSync(path, 'utf8'), path)
    problems.push(...r.problems)
    return r.questions
  }
  const dev = new Map<string, McQuestion[]>()
  for (const f of csvs(devDir).filter((f) => /_dev\.csv$/i.test(f)))
    dev.set(subjectOf(f), read(join(devDir, f)))
  const subjects: McSubject[] = []
  for (const f of csvs(testDir).filter((f) => !/_(dev|val)\.csv$/i.test(f))) {
    const name = subjectOf(f)
    subjects.push({ name, test: read(join(testDir, f)), dev: dev.get(name) ?? [] })
  }
  if (subjects.length === 0)
    throw new UserError(
      'invalid_params',
      `${dir} holds no question files (*.csv or test/*_test.csv).`,
      'data',
    )
  return { subjects, problems }
}

/** The prompt for a question: MMLU's header, k solved dev examples, then the question. */
export function mcPrompt(subject: string, shots: McQuestion[], q: McQuestion): string {
  const solved = shots.map((s) => `${s.question}\nAnswer: ${s.choices[s.answer]}\n\n`).join('')
  return `The following are multiple choice questions (with answers) about ${subject}.\n\n${solved}${q.question}\nAnswer:`
}

/** log p(continuation | prompt), summed over the continuation's tokens. */
export type LogLikelihood = (prompt: string, continuation: string) => Promise<number>

/** The summed log-likelihood of `continuation` after `prompt`, from the cached decoder. */
export function decoderLogLikelihood(decoder: Decoder, tokenizer: Tokenizer): LogLikelihood {
  const start = documentStart(tokenizer)
  // Rows are the model's width, which may exceed the tokenizer's ids (Qwen's padded embedding).
  const V = decoder.config.vocabSize
  return async (prompt, continuation) => {
    const p = Array.from(tokenizer.encode(prompt))
    const c = Array.from(tokenizer.encode(continuation))
    let ids = [...start, ...p, ...c]
    // Too long for the context: keep the end (the question and the choice matter most).
    const max = decoder.config.contextLength
    if (ids.length > max) ids = ids.slice(ids.length - max)
    decoder.reset()
    const logits = await decoder.feed(ids)
    let total = 0
    for (let i = ids.length - c.length; i < ids.length; i++) {
      // Row i-1 predicts token i.
      const row = logits.subarray((i - 1) * V, i * V)
      let max = -Infinity
      for (const x of row) max = Math.max(max, x)
      let sum = 0
      for (const x of row) sum += Math.exp(x - max)
      total += row[ids[i]] - max - Math.log(sum)
    }
    return total
  }
}

export interface McResult {
  shots: number
  subjects: { name: string; questions: number; correct: number; accuracy: number; chance: number }[]
  overall: { questions: number; correct: number; accuracy: number; chance: number }
  /** The same with each choice's score divided by its token count (a common variant). */
  lengthNormalized: { correct: number; accuracy: number }
}

/** Score every question of every subject; `onQuestion` reports progress. */
export async function scoreMc(
  subjects: McSubject[],
  shots: number,
  ll: LogLikelihood,
  tokens: (text: string) => number,
  onQuestion: (done: number, total: number) => void = () => undefined,
  throwIfCancelled: () => void = () => undefined,
): Promise<McResult> {
  const total = subjects.reduce((n, s) => n + s.test.length, 0)
  let done = 0
  let normalizedCorrect = 0
  const out: McResult['subjects'] = []
  for (const s of subjects) {
    let correct = 0
    let chance = 0
    for (const q of s.test) {
      throwIfCancelled()
      const prompt = mcPrompt(s.name, s.dev.slice(0, shots), q)
      const scores: number[] = []
      for (const c of q.choices) scores.push(await ll(prompt, ` ${c}`))
      const best = scores.indexOf(Math.max(...scores))
      if (best === q.answer) correct++
      const normalized = scores.map((x, i) => x / Math.max(1, tokens(` ${q.choices[i]}`)))
      if (normalized.indexOf(Math.max(...normalized)) === q.answer) normalizedCorrect++
      chance += 1 / q.choices.length
      onQuestion(++done, total)
    }
    out.push({
      name: s.name,
      questions: s.test.length,
      correct,
      accuracy: s.test.length ? correct / s.test.length : 0,
      chance: s.test.length ? chance / s.test.length : 0,
    })
  }
  const questions = out.reduce((n, s) => n + s.questions, 0)
  const correct = out.reduce((n, s) => n + s.correct, 0)
  const chance = out.reduce((n, s) => n + s.chance * s.questions, 0)
  return {
    shots,
    subjects: out,
    overall: {
      questions,
      correct,
      accuracy: questions ? correct / questions : 0,
      chance: questions ? chance / questions : 0,
    },
    lengthNormalized: {
      correct: normalizedCorrect,
      accuracy: questions ? normalizedCorrect / questions : 0,
    },
  }
}
