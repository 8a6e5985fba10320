import { z } from 'zod'
import { reviewKeysSchema } from '../review-keys'
import { noParams } from './common'
import { method } from './define'
import type { AppSettings, BackendState, SystemInfo } from '../types'

export const pathPurposes = [
  'openProject',
  'createProject',
  'saveBackup',
  'importData',
  'exportData',
  /** A new or empty folder for a Hugging Face model export. */
  'exportModel',
  /** A new .gguf file for a llama.cpp / Ollama export. */
  'exportGguf',
  /** A model folder to import (config.json, model.safetensors, tokenizer.json). */
  'importModel',
  /** A folder of multiple-choice CSV files (MMLU layout). */
  'benchmarkFolder',
] as const
export type PathPurpose = (typeof pathPurposes)[number]

/** Machine, compute backend, app settings and native dialogs. */
export const systemApi = {
  'system.info': method<SystemInfo>()(noParams),
  /** The tfjs backend the workers use, and why faster ones were skipped. */
  'system.backend': method<BackendState>()(noParams),
  /** Probe the backends again (e.g. after installing tfjs-node). */
  'system.reprobeBackend': method<BackendState>()(noParams),
  /** Native file dialog (desktop only; `unsupported` elsewhere). Null when the user cancels. */
  'system.pickPath': method<string | null>()(
    z.object({ purpose: z.enum(pathPurposes), defaultPath: z.string().max(4096).optional() }),
  ),
  'settings.get': method<AppSettings>()(noParams),
  'settings.update': method<AppSettings>()(
    z
      .object({
        theme: z.enum(['system', 'light', 'dark']).optional(),
        reviewKeys: reviewKeysSchema.optional(),
      })
      .strict(),
  ),
}
