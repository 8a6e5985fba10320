import { z } from 'zod'

/** Paths come from users: bounded, no NUL bytes. Absoluteness and existence are checked in main. */
export const filePath = z
  .string()
  .trim()
  .min(1, 'Enter a file path.')
  .max(4096, 'That path is too long.')
  .refine((p) => !p.includes('\0'), 'A path cannot contain a NUL character.')

export const noParams = z.object({}).strict().optional().default({})

export const entityId = z.int().positive()
