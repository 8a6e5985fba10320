import * as tf from '@tensorflow/tfjs-core'

/**
 * Reverse-mode differentiation that frees memory as it goes: tfjs's own (`tf.grads`,
 * `tf.variableGrads`, engine.gradients) keeps every tensor a node saved for its backward
 * and every intermediate gradient until the whole backward pass ends, so a step's peak is
 * all activations plus all their gradients. Here each node's saved tensors and its
 * outputs' gradients are disposed as soon as the node's own gradients are computed (nothing
 * else reads them: the tape is in topological order), as PyTorch's autograd frees them.
 * The same tape, the same gradient functions and the same order of additions: the
 * gradients are the same to the bit.
 *
 * tfjs exposes no hook for this, so this drives the engine's tape itself through members
 * that are private in its typings (`EngineInternals`), as engine.gradients does in
 * tfjs-core 4.22; its filtering of the tape (tape.ts, not exported) is redone below.
 */

interface TapeNode {
  id: number
  kernelName: string
  outputs: tf.Tensor[]
  inputs: Record<string, tf.Tensor>
  gradient?: (dys: (tf.Tensor | null)[]) => Record<string, () => tf.Tensor>
  saved?: tf.Tensor[]
}

/** The engine members engine.gradients uses (private in tfjs-core's typings). */
interface EngineInternals {
  state: { activeTape: TapeNode[] | null; gradientDepth: number }
  scopedRun<R>(start: () => void, end: () => void, f: () => R): R
  startTape(): void
  endTape(): void
}

/**
 * The engine, checked for the members used here: a tfjs other than the 4.x this was written
 * against may have renamed them, which must fail here with a clear message rather than as a
 * wrong gradient.
 */
let checkedEngine: EngineInternals | null = null

function engine(): EngineInternals {
  if (checkedEngine) return checkedEngine
  const e = tf.engine() as unknown as Partial<EngineInternals>
  const usable =
    typeof e.scopedRun === 'function' &&
    typeof e.startTape === 'function' &&
    typeof e.endTape === 'function' &&
    typeof e.state?.gradientDepth === 'number'
  if (!usable)
    throw new Error(
      `Frugal's backward pass drives tfjs's engine through members of tfjs-core 4.22 (scopedRun, startTape, endTape, state.gradientDepth) that this tfjs-core (${tf.version_core}) lacks.`,
    )
  checkedEngine = e as EngineInternals
  return checkedEngine
}

/**
 * The nodes on a path from one of `xs` to `y`, in tape order, each with only the inputs
 * that depend on `xs` (tfjs's getFilteredNodesXToY).
 */
function pathNodes(tape: TapeNode[], xs: readonly tf.Tensor[], y: tf.Tensor): TapeNode[] {
  const fromX = new Set(xs.map((x) => x.id))
  const nodesFromX = new Set<number>()
  for (const node of tape) {
    if (Object.values(node.inputs).some((t) => fromX.has(t.id))) {
      for (const o of node.outputs) fromX.add(o.id)
      nodesFromX.add(node.id)
    }
  }
  const toY = new Set([y.id])
  const nodesToY = new Set<number>()
  for (let i = tape.length - 1; i >= 0; i--) {
    const node = tape[i]
    if (node.outputs.some((o) => toY.has(o.id))) {
      for (const t of Object.values(node.inputs)) toY.add(t.id)
      nodesToY.add(node.id)
    }
  }
  return tape
    .filter((n) => nodesFromX.has(n.id) && nodesToY.has(n.id))
    .map((n) => ({
      ...n,
      inputs: Object.fromEntries(Object.entries(n.inputs).filter(([, t]) => fromX.has(t.id))),
    }))
}

/**
 * The gradients of f's scalar (or `dy`-weighted) result with respect to `xs`, and the
 * result: engine.gradients with `allowNoGradients` (an x that does not reach y gets null).
 * Not for nesting inside another differentiation (higher-order gradients).
 */
export function gradients(
  f: () => tf.Tensor,
  xs: readonly tf.Tensor[],
  dy?: tf.Tensor,
): { value: tf.Tensor; grads: (tf.Tensor | null)[] } {
  const e = engine()
  if (e.state.gradientDepth !== 0) throw new Error('gradients() does not nest.')
  try {
    return backward(e, f, xs, dy)
  } finally {
    // Nothing saved for this backward is read again, also when the forward or a gradient
    // threw: the tape would otherwise keep a failed step's activations alive.
    for (const node of e.state.activeTape ?? []) for (const t of node.saved ?? []) t.dispose()
    e.state.activeTape = null
  }
}

function backward(
  e: EngineInternals,
  f: () => tf.Tensor,
  xs: readonly tf.Tensor[],
  dy: tf.Tensor | undefined,
): { value: tf.Tensor; grads: (tf.Tensor | null)[] } {
  const y = e.scopedRun(
    () => e.startTape(),
    () => e.endTape(),
    () => tf.tidy(f),
  )
  try {
    const found = tf.tidy(() => propagate(pathNodes(e.state.activeTape ?? [], xs, y), xs, y, dy))
    return { value: y, grads: xs.map((_, i) => found[i] ?? null) }
  } catch (err) {
    y.dispose()
    throw err
  }
}

/**
 * The gradient of y (dy, or ones) carried back through `nodes` (tape order), freeing each
 * node's saved tensors and its outputs' gradients once it is done: xs' gradients by index.
 */
function propagate(
  nodes: TapeNode[],
  xs: readonly tf.Tensor[],
  y: tf.Tensor,
  dy: tf.Tensor | undefined,
): Record<number, tf.Tensor> {
  // A gradient may be the same tensor object under several ids (a node that passes its
  // output's gradient through to an input): count the references, dispose at zero.
  const grad = new Map<number, tf.Tensor>()
  const refs = new Map<tf.Tensor, number>()
  const hold = (id: number, t: tf.Tensor) => {
    grad.set(id, t)
    refs.set(t, (refs.get(t) ?? 0) + 1)
  }
  const release = (id: number) => {
    const t = grad.get(id)
    if (!t) return
    grad.delete(id)
    const n = refs.get(t)! - 1
    if (n > 0) refs.set(t, n)
    else {
      refs.delete(t)
      t.dispose()
    }
  }
  hold(y.id, dy ?? tf.onesLike(y))
  const wanted = new Set(xs.map((x) => x.id))
  for (let i = nodes.length - 1; i >= 0; i--) {
    const node = nodes[i]
    if (!node.gradient)
      throw new Error(
        `Cannot compute gradient: gradient function not found for ${node.kernelName}.`,
      )
    const dys = node.outputs.map((o) => grad.get(o.id) ?? null)
    const inputGradients = node.gradient(dys)
    for (const [name, x] of Object.entries(node.inputs)) {
      const thunk = inputGradients[name]
      if (!thunk) throw new Error(`Cannot backprop through input ${name} of ${node.kernelName}.`)
      const dx = tf.tidy(thunk)
      if (dx.dtype !== 'float32' || !tf.util.arraysEqual(dx.shape, x.shape))
        throw new Error(
          `The gradient of ${node.kernelName}'s input ${name} is ${dx.dtype} ${JSON.stringify(dx.shape)}, where float32 ${JSON.stringify(x.shape)} was expected.`,
        )
      const prev = grad.get(x.id)
      if (!prev) {
        hold(x.id, dx)
        continue
      }
      const sum = tf.add(prev, dx)
      release(x.id)
      hold(x.id, sum)
      if (!refs.has(dx)) dx.dispose()
    }
    // Nothing reads this node's saved tensors or its outputs' gradients again.
    for (const t of node.saved ?? []) t.dispose()
    for (const o of node.outputs) if (!wanted.has(o.id)) release(o.id)
  }
  const out: Record<number, tf.Tensor> = {}
  xs.forEach((x, i) => {
    const g = grad.get(x.id)
    if (g) out[i] = g
  })
  return out
}

/** tf.variableGrads(f, vars) through `gradients`: a gradient for each variable f reaches. */
export function variableGradients(
  f: () => tf.Scalar,
  vars: readonly tf.Variable[],
): { value: tf.Scalar; grads: Record<string, tf.Tensor> } {
  const trainable = vars.filter((v) => v.trainable)
  const { value, grads } = gradients(f, trainable)
  const named: Record<string, tf.Tensor> = {}
  trainable.forEach((v, i) => {
    const g = grads[i]
    if (g) named[v.name] = g
  })
  return { value: value as tf.Scalar, grads: named }
}

/** tf.grads(f)(xs): the gradients of f's scalar result with respect to each of xs. */
export function gradientsOf(
  f: (...xs: tf.Tensor[]) => tf.Tensor,
): (xs: tf.Tensor[], dy?: tf.Tensor) => tf.Tensor[] {
  return (xs, dy) => {
    const { value, grads: gs } = gradients(() => f(...xs), xs, dy)
    value.dispose()
    return gs.map((g, i) => g ?? tf.zerosLike(xs[i]))
  }
}
