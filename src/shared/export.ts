import { type z } from 'zod'

/**
 * How a checkpoint leaves Frugal: a Hugging Face folder, one GGUF file (llama.cpp, Ollama,
 * LM Studio), or a LoRA run's adapters alone as a PEFT adapter folder.
 */
export const exportFormats = ['hf', 'gguf', 'peft'] as const
export type ExportFormat = (typeof exportFormats)[number]

export const exportDtypes = ['fp32', 'bf16', 'fp16', 'q8_0'] as const
export type ExportDtype = (typeof exportDtypes)[number]

/** The precisions each format writes (GGUF's names: f32, f16, q8_0). */
export const dtypesOf: Record<ExportFormat, readonly ExportDtype[]> = {
  hf: ['fp32', 'bf16', 'fp16'],
  gguf: ['fp32', 'fp16', 'q8_0'],
  peft: ['fp32', 'bf16', 'fp16'],
}

/** What a format writes, for messages. */
export const formatNames: Record<ExportFormat, string> = {
  hf: 'Hugging Face folder',
  gguf: 'GGUF file',
  peft: 'PEFT adapter folder',
}

/** Format and precision of an export, checked together: the request's field on a mismatch. */
export function refineExport(
  v: { format: ExportFormat; dtype: ExportDtype },
  ctx: z.RefinementCtx,
): void {
  if (dtypesOf[v.format].includes(v.dtype)) return
  ctx.addIssue({
    code: 'custom',
    path: ['dtype'],
    message: `A ${formatNames[v.format]} is written in ${dtypesOf[v.format].join(', ')}, not ${v.dtype}.`,
  })
}
