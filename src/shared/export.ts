import { type z } from 'zod'

/** How a checkpoint leaves Frugal: a Hugging Face folder, or one GGUF file (llama.cpp, Ollama, LM Studio). */
export const exportFormats = ['hf', 'gguf'] as const
export type ExportFormat = (typeof exportFormats)[number]

export const exportDtypes = ['fp32', 'bf16', 'fp16', 'q8_0'] as const
export type ExportDtype = (typeof exportDtypes)[number]

/** The precisions each format writes (GGUF's names: f32, f16, q8_0). */
export const dtypesOf: Record<ExportFormat, readonly ExportDtype[]> = {
  hf: ['fp32', 'bf16', 'fp16'],
  gguf: ['fp32', 'fp16', 'q8_0'],
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
    message: `A ${v.format === 'gguf' ? 'GGUF file' : 'Hugging Face folder'} is written in ${dtypesOf[v.format].join(', ')}, not ${v.dtype}.`,
  })
}
