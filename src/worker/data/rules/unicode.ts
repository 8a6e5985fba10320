import { keptOrModified, type Rule } from './types'

/** Unicode normalization (NFKC folds full-width forms and ligatures) and "\n" line endings. */
export const unicode: Rule<'unicode'> = (view, p) => {
  // ASCII is stable under every normalization form: only line endings can change.
  const lf = view.text.includes('\r') ? view.text.replace(/\r\n?/g, '\n') : view.text
  const text = view.ascii ? lf : lf.normalize(p.form)
  let changed = 0
  // Counting changed positions is only meaningful when the length is unchanged.
  if (text !== view.text && text.length === view.text.length)
    for (let i = 0; i < text.length; i++)
      if (text.charCodeAt(i) !== view.text.charCodeAt(i)) changed++
  return keptOrModified(
    view.text,
    text,
    { form: p.form, charsBefore: view.text.length, charsAfter: text.length, changed },
    `Normalized to ${p.form}.`,
  )
}
