/**
 * Small sums, asked and answered, in the three layouts a user's files come in (messages,
 * prompt/response, ShareGPT): `question` asks about a and b, `reply` answers.
 */
export function sums(
  reply: (a: number, b: number) => string = (a, b) => String(a + b),
  question: (a: number, b: number) => string = (a, b) => `What is ${a}+${b}?`,
): object[] {
  const out: object[] = []
  for (let a = 1; a <= 9; a++)
    for (let b = 1; b <= 7; b++) {
      const q = question(a, b)
      const r = reply(a, b)
      if ((a + b) % 3 === 0)
        out.push({
          messages: [
            { role: 'user', content: q },
            { role: 'assistant', content: r },
          ],
        })
      else if ((a + b) % 3 === 1) out.push({ prompt: q, response: r, id: `${a}-${b}` })
      else
        out.push({
          conversations: [
            { from: 'human', value: q },
            { from: 'gpt', value: r },
          ],
        })
    }
  return out
}
