import { Rng } from '../../shared/rng'

/** Settings of the shipped arithmetic task (`frugal data toy-task arithmetic`). */
export interface ArithmeticTask {
  /** Problems to write (distinct ones first; past that many, repeats). */
  count: number
  /** The first operand is a whole number from 0 to this. */
  max: number
  /** The second operand, from 0 to this (the first's range when absent). */
  maxSecond?: number
  /** Which operations appear. */
  operations: readonly ('+' | '-' | '*')[]
  seed: number
}

/** A conversation of the task: a question and its one right answer. */
export interface TaskRecord {
  prompt: string
  response: string
}

/**
 * Small-number arithmetic, the task Frugal ships to prove GRPO on: each record asks "What
 * is a+b?" and answers with the number alone, so the exact-answer and numeric rules verify
 * any reply. Problems are drawn without repeats while there are unused ones, in a seeded
 * order, so the same settings write the same file.
 */
export function arithmeticTask(t: ArithmeticTask): TaskRecord[] {
  const problems: [number, string, number][] = []
  for (const op of t.operations)
    for (let a = 0; a <= t.max; a++)
      for (let b = 0; b <= (t.maxSecond ?? t.max); b++) problems.push([a, op, b])
  const rng = new Rng(t.seed)
  // Fisher-Yates: a seeded order of every problem, cycled when more are asked for.
  for (let i = problems.length - 1; i > 0; i--) {
    const j = rng.int(i + 1)
    ;[problems[i], problems[j]] = [problems[j], problems[i]]
  }
  return Array.from({ length: t.count }, (_, i) => {
    const [a, op, b] = problems[i % problems.length]
    const value = op === '+' ? a + b : op === '-' ? a - b : a * b
    return { prompt: `What is ${a}${op}${b}?`, response: String(value) }
  })
}
