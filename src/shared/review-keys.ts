import { z } from 'zod'

/**
 * The review workspace's keyboard commands and their keys. A key is written as a chord:
 * modifiers then the key, e.g. "a", "Space", "ArrowRight", "Mod+z", "Mod+Shift+z"
 * ("Mod" is Ctrl, or ⌘ on a Mac). Digits 1-9 belong to labels and cannot be taken.
 */
export const reviewCommands = [
  'keep',
  'remove',
  'skip',
  'undo',
  'redo',
  'note',
  'next',
  'prev',
  'search',
] as const
export type ReviewCommand = (typeof reviewCommands)[number]

export const reviewCommandTitles: Record<ReviewCommand, string> = {
  keep: 'Keep, and go to the next undecided document',
  remove: 'Remove, and go to the next undecided document',
  skip: 'Skip: next undecided document, no decision',
  undo: 'Undo the last change',
  redo: 'Redo what was undone',
  note: 'Write a note on the document',
  next: 'Next document in the queue',
  prev: 'Previous document in the queue',
  search: 'Search the dataset',
}

export type ReviewKeys = Record<ReviewCommand, string[]>

export const defaultReviewKeys: ReviewKeys = {
  keep: ['a'],
  remove: ['x'],
  skip: ['Space'],
  undo: ['u', 'Mod+z'],
  redo: ['Mod+Shift+z'],
  note: ['n'],
  next: ['j', 'ArrowRight'],
  prev: ['k', 'ArrowLeft'],
  search: ['/'],
}

const chord = z
  .string()
  .min(1)
  .max(40)
  .refine((c) => !/^[1-9]$/.test(c), 'Keys 1 to 9 toggle labels.')
  .refine((c) => c !== '?', '? shows the help.')

/** What settings may hold: any command's keys replaced. */
export const reviewKeysSchema = z
  .partialRecord(z.enum(reviewCommands), z.array(chord).min(1).max(3))
  .superRefine((keys, ctx) => {
    const owner = new Map<string, ReviewCommand>()
    for (const command of reviewCommands) {
      for (const c of keys[command] ?? defaultReviewKeys[command]) {
        const other = owner.get(c)
        if (other)
          ctx.addIssue({
            code: 'custom',
            path: [command],
            message: `${c} is already the key for "${reviewCommandTitles[other]}".`,
          })
        owner.set(c, command)
      }
    }
  })

/** The keys in effect: the user's, over the defaults. */
export function effectiveReviewKeys(custom: Partial<ReviewKeys> | undefined): ReviewKeys {
  return { ...defaultReviewKeys, ...custom }
}

/** The chord a key press makes (see the module comment). */
export function chordOf(
  e: { key: string; ctrlKey: boolean; metaKey: boolean; altKey: boolean; shiftKey: boolean },
  mac: boolean,
): string {
  const key = e.key === ' ' ? 'Space' : e.key.length === 1 ? e.key.toLowerCase() : e.key
  const parts: string[] = []
  if (mac ? e.metaKey : e.ctrlKey) parts.push('Mod')
  if (e.altKey) parts.push('Alt')
  // Shift is part of the chord for letters and named keys; for "?" or "/" it is how the
  // character is typed, not a modifier.
  if (e.shiftKey && (key.length > 1 || /^[a-z]$/.test(key))) parts.push('Shift')
  parts.push(key)
  return parts.join('+')
}

/** A chord as shown on screen: "Mod+Shift+z" -> "Ctrl+Shift+Z", "ArrowRight" -> "→". */
export function chordLabel(c: string, mac: boolean): string {
  const names: Record<string, string> = {
    Mod: mac ? '⌘' : 'Ctrl',
    ArrowRight: '→',
    ArrowLeft: '←',
    ArrowUp: '↑',
    ArrowDown: '↓',
    Space: 'Space',
  }
  return c
    .split('+')
    .map((p) => names[p] ?? (p.length === 1 ? p.toUpperCase() : p))
    .join('+')
}
