import type { Example } from '../sft/examples'
import type { PolicyPrompt } from './policy'

/**
 * A GRPO run's prompts from its conversations: each conversation up to its last assistant
 * turn (the template's assistant opening included, as generation lays a prompt out), with
 * that turn's text as the reference answer the rules check replies against.
 */
export function policyPrompts(examples: readonly Example[]): PolicyPrompt[] {
  return examples.map((e) => {
    // The last run of trained tokens is the last assistant turn; the prompt ends where it starts.
    let end = e.trained.lastIndexOf(1)
    while (end > 0 && e.trained[end - 1] === 1) end--
    return {
      ids: e.ids.slice(0, end),
      answer: e.reference?.answer ?? '',
      question: e.reference?.question ?? '',
    }
  })
}
