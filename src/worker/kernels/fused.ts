import * as tf from '@tensorflow/tfjs-core'

let enabled = true

/**
 * Use Frugal's fused kernels where the active backend has them (on by default).
 * `bench:gpu --fused off` and the tests that compare a fused op with its composition turn
 * them off.
 */
export function setFusedKernels(on: boolean): void {
  enabled = on
}

/** Whether the active backend runs `kernelName` (one of Frugal's fused kernels). */
export function hasFusedKernel(kernelName: string): boolean {
  return enabled && tf.getKernel(kernelName, tf.getBackend()) !== undefined
}
