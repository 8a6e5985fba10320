import type { JobHandler } from '../context'

/** Load tfjs and report which backend this machine gets, and why the others were skipped. */
export const backendProbe: JobHandler<'backend.probe'> = async (_params, ctx) => {
  const { info } = await ctx.backend()
  ctx.log('info', `Using ${info.name} (${info.package} ${info.version}, ${info.detail}).`)
  for (const s of info.skipped) ctx.log('info', `Skipped ${s.name}: ${s.reason}`)
  return info
}
