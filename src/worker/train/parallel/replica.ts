/**
 * A data-parallel replica: a worker thread with its own tfjs (the wasm backend runs one
 * thread per instance under Node) that computes the gradients of its shard of each batch.
 * Parameters arrive through shared memory; gradients leave the same way.
 */
import * as tf from '@tensorflow/tfjs-core'
import { parentPort } from 'node:worker_threads'
import { loadBackend } from '../../backend'
import { installKernels } from '../../kernels'
import { Transformer } from '../../model/model'
import { ownedVariable } from '../../model/ops'
import { trainingSpecs } from '../hidden-align'
import { computeGradients } from '../gradients'
import { numericsFor } from '../precision'
import { qatNumerics } from '../qat'
import { flatLayout } from './layout'
import type { ReplicaInit, ReplicaMessage, ReplicaStep } from './protocol'

const port = parentPort
if (!port) throw new Error('The replica runs as a worker thread of a training job.')

let state: {
  init: ReplicaInit
  model: Transformer
  params: Map<string, tf.Variable>
  trainable: string[]
  version: number
} | null = null

const post = (m: ReplicaMessage) => port.postMessage(m)

async function init(msg: ReplicaInit): Promise<void> {
  await loadBackend(msg.backend)
  installKernels(tf)
  const specs = trainingSpecs(msg.model, msg.distill?.alignment ?? null)
  const layout = flatLayout(specs)
  const all = new Float32Array(msg.params)
  const params = new Map<string, tf.Variable>()
  for (const s of specs) {
    const off = layout.offsets.get(s.name)!
    params.set(
      s.name,
      ownedVariable(
        tf.tensor(all.subarray(off, off + layout.sizes.get(s.name)!), s.shape),
        s.trainable,
      ),
    )
  }
  state = {
    init: msg,
    model: new Transformer(msg.model),
    params,
    trainable: specs.filter((s) => s.trainable).map((s) => s.name),
    version: 0,
  }
  post({ type: 'ready' })
}

async function step(msg: ReplicaStep): Promise<void> {
  const s = state!
  const alignment = s.init.distill?.alignment ?? null
  const specs = trainingSpecs(s.init.model, alignment)
  if (msg.paramsVersion !== s.version) {
    const layout = flatLayout(specs)
    const all = new Float32Array(s.init.params)
    for (const spec of specs) {
      const off = layout.offsets.get(spec.name)!
      // Inside tidy: assign keeps the data, the temporary tensor must still be released.
      tf.tidy(() =>
        s.params
          .get(spec.name)!
          .assign(tf.tensor(all.subarray(off, off + layout.sizes.get(spec.name)!), spec.shape)),
      )
    }
    s.version = msg.paramsVersion
  }
  const rows = msg.B * msg.T
  const teacher = msg.teacher ? tf.tensor2d(msg.teacher, [rows, s.init.model.vocabSize]) : null
  const hidden =
    alignment && msg.teacherHidden
      ? msg.teacherHidden.map((h) => tf.tensor2d(h, [rows, alignment.teacherWidth]))
      : null
  const r = await computeGradients({
    model: s.model,
    params: s.params,
    trainable: s.trainable,
    batch: {
      inputs: msg.inputs,
      targets: msg.targets,
      B: msg.B,
      T: msg.T,
      ...(msg.packing ? { packing: msg.packing } : {}),
    },
    numerics: msg.qat
      ? qatNumerics(numericsFor(s.init.precision), msg.qat)
      : numericsFor(s.init.precision),
    lossScale: msg.lossScale,
    labelSmoothing: s.init.labelSmoothing,
    dropPath: msg.dropPath,
    checkpointing: s.init.checkpointing,
    distill:
      s.init.distill && teacher && msg.distillWeights
        ? {
            teacher,
            temperature: s.init.distill.temperature,
            weights: msg.distillWeights,
            hidden: alignment && hidden ? { alignment, targets: hidden } : null,
          }
        : null,
  })
  teacher?.dispose()
  hidden?.forEach((h) => h.dispose())
  const gradLayout = flatLayout(specs.filter((p) => p.trainable))
  const out = new Float32Array(s.init.grads)
  for (const [name, g] of r.grads) {
    out.set(g.dataSync(), gradLayout.offsets.get(name))
    g.dispose()
  }
  post({
    type: 'done',
    loss: r.loss,
    aux: r.aux,
    kl: r.kl,
    hidden: r.hidden,
    moe: r.moe,
    tensors: tf.memory().numTensors,
  })
}

port.on('message', (msg: ReplicaInit | ReplicaStep) => {
  const failed = (err: unknown) =>
    post({
      type: 'error',
      message: err instanceof Error ? (err.stack ?? err.message) : String(err),
    })
  ;(msg.type === 'init' ? init(msg) : step(msg)).catch(failed)
})
