import * as tf from '@tensorflow/tfjs-core'
import type { Worker } from 'node:worker_threads'
import { startThread } from '../../threads'
import type { ModelConfig } from '../../model/config'
import type { MoeStats } from '../../model/layers/moe'
import type { ParamSpec } from '../../model/params'
import { trainingSpecs, type HiddenAlignment } from '../hidden-align'
import type { Precision } from '../../../shared/config/train'
import { flatLayout, type FlatLayout } from './layout'
import type { ReplicaInit, ReplicaMessage, ReplicaStep } from './protocol'

export interface ReplicaOptions {
  /** The replica's entry: the built replica.js, or replica.ts (loaded through tsx in tests and scripts). */
  entry: string
  backend: string
  model: ModelConfig
  precision: Precision
  labelSmoothing: number
  checkpointing: boolean
  distill: { temperature: number; alignment: HiddenAlignment | null } | null
}

export interface ShardResult {
  loss: number
  aux: number
  kl: number | null
  hidden: number | null
  moe: (MoeStats | null)[]
  /** Live tensors in the replica after its step: constant from step to step, or something leaks. */
  tensors: number
}

/**
 * The replicas of a data-parallel step. The main thread publishes parameters into shared
 * memory after each update; each replica computes its shard's gradients into its own
 * shared region, which the main thread reads as tensors and sums in a fixed order.
 */
export class ReplicaPool {
  private version = 0
  private readonly paramBuffer: SharedArrayBuffer
  private readonly gradBuffers: SharedArrayBuffer[]
  private readonly layout: FlatLayout
  private readonly gradLayout: FlatLayout
  private readonly specs: ParamSpec[]
  private failure: Error | null = null

  private constructor(
    private readonly workers: Worker[],
    model: ModelConfig,
    alignment: HiddenAlignment | null,
  ) {
    this.specs = trainingSpecs(model, alignment)
    this.layout = flatLayout(this.specs)
    this.gradLayout = flatLayout(this.specs.filter((s) => s.trainable))
    this.paramBuffer = new SharedArrayBuffer(this.layout.total * 4)
    this.gradBuffers = workers.map(() => new SharedArrayBuffer(this.gradLayout.total * 4))
  }

  static async start(
    count: number,
    options: ReplicaOptions,
    params: Map<string, tf.Variable>,
  ): Promise<ReplicaPool> {
    const workers = Array.from({ length: count }, () => startThread(options.entry))
    const pool = new ReplicaPool(workers, options.model, options.distill?.alignment ?? null)
    pool.publish(params)
    await Promise.all(
      workers.map(
        (w, i) =>
          new Promise<void>((resolve, reject) => {
            const onMessage = (m: ReplicaMessage) => {
              if (m.type === 'ready') resolve()
              else if (m.type === 'error')
                reject(new Error(`Replica ${i + 1} failed to start: ${m.message}`))
            }
            w.once('message', onMessage)
            w.once('error', reject)
            const init: ReplicaInit = {
              type: 'init',
              backend: options.backend,
              model: options.model,
              precision: options.precision,
              labelSmoothing: options.labelSmoothing,
              checkpointing: options.checkpointing,
              distill: options.distill,
              params: pool.paramBuffer,
              grads: pool.gradBuffers[i],
            }
            w.postMessage(init)
          }),
      ),
    ).catch(async (err: unknown) => {
      await pool.close()
      throw err
    })
    for (const w of workers) w.on('error', (err) => (pool.failure = err))
    return pool
  }

  get size(): number {
    return this.workers.length
  }

  /** Copy every parameter into shared memory for the replicas' next step. */
  publish(params: Map<string, tf.Variable>): void {
    const all = new Float32Array(this.paramBuffer)
    for (const [name, p] of params) all.set(p.dataSync(), this.layout.offsets.get(name))
    this.version++
  }

  /** Start shard i on replica i (shards may be fewer than replicas); resolve when all finish. */
  run(shards: Omit<ReplicaStep, 'type' | 'paramsVersion'>[]): Promise<ShardResult[]> {
    if (this.failure) return Promise.reject(this.failure)
    return Promise.all(
      shards.map(
        (shard, i) =>
          new Promise<ShardResult>((resolve, reject) => {
            const w = this.workers[i]
            const onMessage = (m: ReplicaMessage) => {
              w.off('error', onError)
              if (m.type === 'done')
                resolve({
                  loss: m.loss,
                  aux: m.aux,
                  kl: m.kl,
                  hidden: m.hidden,
                  moe: m.moe,
                  tensors: m.tensors,
                })
              else reject(new Error(m.type === 'error' ? m.message : 'Unexpected replica message'))
            }
            const onError = (err: Error) => {
              w.off('message', onMessage)
              reject(err)
            }
            w.once('message', onMessage)
            w.once('error', onError)
            w.postMessage({
              ...shard,
              type: 'step',
              paramsVersion: this.version,
            } satisfies ReplicaStep)
          }),
      ),
    )
  }

  /** Replica i's gradient of one parameter, as a view of shared memory (valid until its next step). */
  gradientView(i: number, name: string): Float32Array {
    return new Float32Array(
      this.gradBuffers[i],
      this.gradLayout.offsets.get(name)! * 4,
      this.gradLayout.sizes.get(name),
    )
  }

  /** Replica i's gradient of one parameter, as a tensor (copied out of shared memory). */
  gradient(i: number, name: string, shape: number[]): tf.Tensor {
    const off = this.gradLayout.offsets.get(name)!
    const size = this.gradLayout.sizes.get(name)!
    return tf.tensor(new Float32Array(this.gradBuffers[i], off * 4, size).slice(), shape)
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()))
  }
}
