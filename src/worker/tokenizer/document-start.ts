import type { Tokenizer } from './types'

interface TemplatePiece {
  SpecialToken?: { id: string }
  Sequence?: { id: string }
}

interface PostProcessor {
  type?: string
  processors?: PostProcessor[]
  single?: TemplatePiece[]
  special_tokens?: Record<string, { ids?: number[] }>
}

/**
 * The ids a document starts with, before its text: what decoding puts before a prompt.
 *
 * A tokenizer whose post-processor template adds tokens before a text (Llama 3's
 * `<|begin_of_text|>`, in a TemplateProcessing of tokenizer.json) was trained with them
 * there, so those. Otherwise the separator Frugal's training streams put between documents,
 * end-of-text (else beginning-of-text): the token that says "a document starts here", and
 * the one Qwen and SmolLM2 packed their pretraining documents with. Empty when there is
 * neither.
 */
export function documentStart(tokenizer: Tokenizer): number[] {
  const template = templateOf(tokenizer.toJSON().post_processor as PostProcessor | null)
  if (template?.single) {
    const ids: number[] = []
    for (const piece of template.single) {
      if (piece.Sequence) break
      const special = piece.SpecialToken && template.special_tokens?.[piece.SpecialToken.id]
      if (special?.ids) ids.push(...special.ids)
    }
    if (ids.length > 0) return ids
  }
  const separator = tokenizer.eos ?? tokenizer.bos
  return separator === null ? [] : [separator]
}

/** The TemplateProcessing step of a post-processor, alone or in a Sequence. */
function templateOf(p: PostProcessor | null): PostProcessor | null {
  if (!p) return null
  if (p.type === 'TemplateProcessing') return p
  if (p.type === 'Sequence')
    return p.processors?.find((q) => q.type === 'TemplateProcessing') ?? null
  return null
}
