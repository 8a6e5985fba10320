import * as tf from '@tensorflow/tfjs-core'
import type { Store } from '../../store'
import type { CachedWindow, TeacherCacheKey } from '../../store/repos/teacher-caches'
import { fromBfloat16, toBfloat16 } from '../export/floats'
import type { ModelConfig } from '../model/config'
import { windowBatch, windowCount } from './data'
import { Teacher, type TeacherTargets } from './teacher'

/** Windows per teacher forward pass while building a cache. */
const BUILD_BATCH = 16

/**
 * Run the teacher once over every window of the training tokens (window k holds tokens
 * [k·S, k·S + S]) and store, per position, its top-k token ids and their probabilities at
 * the temperature. Training then reads these instead of running the teacher. Because the
 * teacher is causal, a window's first T positions are also right for a shorter context T.
 */
export async function buildTeacherCache(
  store: Store,
  key: TeacherCacheKey,
  teacher: { config: ModelConfig; weights: ReadonlyMap<string, Float32Array> },
  student: ModelConfig,
  tokens: Uint16Array | Int32Array,
  options: { signal?: AbortSignal; onProgress?: (done: number, total: number) => void } = {},
): Promise<number> {
  const S = key.windowTokens
  const N = windowCount(tokens.length, S)
  const k = Math.min(key.topK, student.vocabSize)
  const net = Teacher.load(teacher, student, null)
  const id = store.teacherCaches.create(key, N, new Date().toISOString())
  try {
    for (let first = 0; first < N; first += BUILD_BATCH) {
      options.signal?.throwIfAborted()
      const n = Math.min(BUILD_BATCH, N - first)
      const { soft, hidden } = await net.targets(windowBatch(tokens, first, n, S), key.temperature)
      tf.dispose(hidden)
      const top = tf.topk(soft, k) // values and indices (n·S, k)
      soft.dispose()
      const [values, indices] = await Promise.all([top.values.data(), top.indices.data()])
      tf.dispose([top.values, top.indices])
      const windows: CachedWindow[] = Array.from({ length: n }, (_, b) => ({
        ids: Int32Array.from(indices.subarray(b * S * k, (b + 1) * S * k)),
        probs: toBfloat16(Float32Array.from(values.subarray(b * S * k, (b + 1) * S * k))),
      }))
      store.teacherCaches.put(id, first, windows)
      options.onProgress?.(first + n, N)
      await new Promise((resolve) => setImmediate(resolve)) // let a cancel be heard
    }
    store.teacherCaches.markReady(id)
    return id
  } finally {
    net.dispose()
  }
}

/** Soft targets for a batch of window-aligned sequences, read from a built cache. */
export class CachedTeacher {
  constructor(
    private readonly store: Store,
    private readonly cacheId: number,
    private readonly topK: number,
    private readonly vocabSize: number,
  ) {}

  /**
   * (B·T, V) probabilities: each row the cached top-k, renormalized to sum to 1 (the
   * tail beyond k is dropped; it contributes nothing to the KL's gradient direction).
   */
  targets(windows: Int32Array, T: number): TeacherTargets {
    const V = this.vocabSize
    const k = Math.min(this.topK, V)
    const out = new Float32Array(windows.length * T * V)
    this.store.teacherCaches.read(this.cacheId, windows).forEach((w, b) => {
      const probs = fromBfloat16(w.probs)
      for (let t = 0; t < T; t++) {
        let sum = 0
        for (let j = 0; j < k; j++) sum += probs[t * k + j]
        const row = (b * T + t) * V
        for (let j = 0; j < k; j++) out[row + w.ids[t * k + j]] += probs[t * k + j] / sum
      }
    })
    return { soft: tf.tensor2d(out, [windows.length * T, V]), hidden: [] }
  }
}
