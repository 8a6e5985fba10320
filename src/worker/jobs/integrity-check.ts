import type { JobHandler } from '../context'

/** SQLite's own structural check plus foreign keys, reported as a list of problems. */
export const integrityCheck: JobHandler<'project.integrityCheck'> = (_params, ctx) => {
  const store = ctx.store()
  ctx.progress({ done: 0, total: 2, unit: 'checks', message: 'Checking structure' })
  const problems = store.structureProblems()
  ctx.throwIfCancelled()
  ctx.progress({ done: 1, total: 2, unit: 'checks', message: 'Checking references' })
  const fk = store.brokenReferences()
  for (const r of fk.slice(0, 100))
    problems.push(`${r.table} row ${r.rowid} refers to a missing ${r.parent} row`)
  if (fk.length > 100) problems.push(`…and ${fk.length - 100} more broken references`)
  ctx.progress({ done: 2, total: 2, unit: 'checks' })
  return { ok: problems.length === 0, problems }
}
