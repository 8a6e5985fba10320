import { existsSync, readdirSync, statSync } from 'node:fs'
import { isRewardRun, trainConfigSchema } from '../../shared/config/train'
import { UserError } from '../../shared/errors'
import {
  jobHoldsDataset,
  jobKindDefinitions,
  type JobCheck,
  type JobRecord,
  type StartJob,
} from '../../shared/jobs'
import type { Store } from '../../store'
import { checkNewFile, resolveUserPath } from '../user-paths'

/**
 * The preconditions job kinds declare (`checks` in shared/jobs.ts), implemented once: the
 * app's supervisor and the CLI's in-process runner both call `checkJob` before a job
 * starts, so a CLI user and an app user meet the same rules and the same messages.
 */

/** What a check may look at: the open project and the jobs queued or running now. */
export interface CheckContext {
  store: Store | null
  /** Every job that holds resources now (the app's own; for the CLI, the project's rows). */
  active: readonly JobRecord[]
}

type Params = Record<string, unknown>
/** A check throws a UserError, or returns the params (with `out` resolved, for outputs). */
type Check = (params: Params, ctx: CheckContext) => Params

/** The active job holding a dataset (by id, or by the name an import writes into), if any. */
export function jobHoldingDataset(
  ctx: CheckContext,
  datasetId: number | null,
  name: string | null,
): JobRecord | undefined {
  const known = datasetId !== null ? (ctx.store?.datasets.get(datasetId)?.name ?? null) : null
  return ctx.active.find((j) => jobHoldsDataset(j, datasetId, known ?? name))
}

/** The run a job names, or a not_found error. */
function runOf(params: Params, ctx: CheckContext) {
  const runId = String(params.runId)
  const run = ctx.store?.runs.get(runId)
  if (!run) throw new UserError('not_found', `There is no run ${runId}.`, 'runId')
  return run
}

const checks: Record<JobCheck, Check> = {
  checkpoint: (params, ctx) => {
    const run = runOf(params, ctx)
    const checkpoints = ctx.store!.checkpoints.list(run.id)
    if (checkpoints.length === 0)
      throw new UserError(
        'conflict',
        `Run "${run.name}" has no checkpoint yet: train it first.`,
        'checkpointId',
      )
    const wanted = typeof params.checkpointId === 'number' ? params.checkpointId : null
    if (wanted !== null && !checkpoints.some((c) => c.id === wanted))
      throw new UserError(
        'not_found',
        `Run "${run.name}" has no checkpoint ${wanted}.`,
        'checkpointId',
      )
    return params
  },
  rewardModel: (params, ctx) => {
    const run = runOf(params, ctx)
    if (!isRewardRun(trainConfigSchema.parse(run.trainConfig)))
      throw new UserError(
        'invalid_params',
        `Run "${run.name}" is not a reward model: train one with the kind "A reward model" (train.kind "reward").`,
        'runId',
      )
    return params
  },
  datasetIdle: (params, ctx) => {
    const name = typeof params.dataset === 'string' ? params.dataset : null
    const id =
      typeof params.datasetId === 'number'
        ? params.datasetId
        : name !== null
          ? (ctx.store?.datasets.byName(name)?.id ?? null)
          : null
    const busy = jobHoldingDataset(ctx, id, name)
    if (busy) {
      const shown = (id !== null ? ctx.store?.datasets.get(id)?.name : null) ?? name
      throw new UserError(
        'conflict',
        `${shown ? `"${shown}"` : 'This dataset'} is busy (${busy.kind.replace('data.', '')} in progress). Wait for it or cancel it.`,
        name !== null ? 'dataset' : 'datasetId',
      )
    }
    return params
  },
  newJsonlFile: (params) => ({
    ...params,
    out: checkNewFile(String(params.out), 'out', {
      extension: '.jsonl',
      overwrite: params.overwrite === true,
    }),
  }),
  newModelOutput: (params) => {
    const out = resolveUserPath(String(params.out), 'out')
    if (params.format === 'gguf') {
      if (existsSync(out))
        throw new UserError('conflict', `${out} already exists: choose a new file name.`, 'out')
      checkNewFile(out, 'out')
    } else if (existsSync(out)) {
      if (!statSync(out).isDirectory())
        throw new UserError('conflict', `${out} is a file: choose a new folder.`, 'out')
      if (readdirSync(out).length > 0)
        throw new UserError('conflict', `${out} is not empty: choose a new folder.`, 'out')
    } else checkNewFile(out, 'out') // its parent folder must exist
    return { ...params, out }
  },
}

/** Run a job's declared checks: the request to start (outputs resolved), or a UserError. */
export function checkJob<R extends StartJob>(request: R, ctx: CheckContext): R {
  let params = request.params as Params
  for (const name of jobKindDefinitions[request.kind].checks ?? [])
    params = checks[name](params, ctx)
  return { ...request, params }
}
