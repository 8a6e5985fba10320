import * as tf from '@tensorflow/tfjs-core'
import { beforeAll, describe, expect, it } from 'vitest'
import { modelConfigSchema } from '../../../src/worker/model/config'
import { crossEntropy } from '../../../src/worker/model/loss'
import { Transformer, type Params } from '../../../src/worker/model/model'
import { customGradient } from '../../../src/worker/model/ops'
import { initialValues, paramSpecs } from '../../../src/worker/model/params'
import { gradientsOf, variableGradients } from '../../../src/worker/train/backprop'
import { Rng } from '../../../src/shared/rng'
import { probe, setupTf } from '../../helpers/tfjs'

beforeAll(async () => {
  await setupTf()
})

function setup() {
  const config = modelConfigSchema.parse({
    vocabSize: 64,
    contextLength: 32,
    layers: 3,
    heads: 2,
    width: 32,
    moe: { routedExperts: 4, topK: 2, firstDenseLayers: 1, capacityFactor: null },
  })
  const values = initialValues({ ...config, initStd: 0.1 }, new Rng(3))
  const vars = paramSpecs(config).map((s) =>
    tf.variable(tf.tensor(values.get(s.name)!, s.shape), true, s.name),
  )
  const P: Params = Object.fromEntries(vars.map((v) => [v.name, v]))
  const model = new Transformer(config)
  const rng = new Rng(5)
  const ids = tf.tensor1d(
    Array.from({ length: 64 }, () => rng.int(64)),
    'int32',
  )
  const targets = tf.tensor1d(
    Array.from({ length: 64 }, () => rng.int(64)),
    'int32',
  )
  return { model, P, vars, ids, targets }
}

describe('the backward pass', () => {
  it("gives tfjs's gradients to the bit, and holds less while it runs", async () => {
    const { model, P, vars, ids, targets } = setup()
    const routing = await model.route(P, ids, 2, 32)
    const seen: number[] = []
    const loss = () => {
      const { logits, aux } = model.forward(P, ids, 2, 32, { routing })
      const l = crossEntropy(probe(logits, seen), targets)
      return aux ? tf.add<tf.Scalar>(l, aux) : l
    }
    const tensorsBefore = tf.memory().numTensors
    const ours = variableGradients(loss, vars)
    const theirs = tf.variableGrads(loss, vars)
    expect(Object.keys(ours.grads).sort()).toEqual(Object.keys(theirs.grads).sort())
    expect((await ours.value.data())[0]).toBe((await theirs.value.data())[0])
    for (const [name, g] of Object.entries(ours.grads))
      expect(Array.from(await g.data()), name).toEqual(Array.from(await theirs.grads[name].data()))
    // When the loss's gradient reaches the logits, tfjs still holds every gradient it made and
    // everything the nodes behind saved; this pass has freed the first.
    const [oursAtLogits, theirsAtLogits] = seen
    expect(oursAtLogits).toBeLessThan(theirsAtLogits)
    // Nothing left behind but the values and the gradients returned.
    tf.dispose([
      ours.value,
      theirs.value,
      ...Object.values(ours.grads),
      ...Object.values(theirs.grads),
    ])
    expect(tf.memory().numTensors).toBe(tensorsBefore)
    tf.dispose([...vars, ids, targets])
  })

  it('frees the gradients and saved tensors of the layers behind it as it goes', () => {
    // Eight layers: when the backward reaches the first, what the seven after it saved and
    // the gradients between them are gone.
    const rng = new Rng(7)
    const ws = Array.from({ length: 8 }, () =>
      tf.tensor2d(
        Float32Array.from({ length: 256 * 256 }, () => rng.normal() * 0.05),
        [256, 256],
      ),
    )
    const x = tf.tensor2d(
      Float32Array.from({ length: 512 * 256 }, () => rng.normal()),
      [512, 256],
    )
    const activation = 512 * 256 * 4
    const run = (differentiate: typeof gradientsOf) => {
      const seen: number[] = []
      const before = tf.memory().numBytes
      const gs = differentiate((input: tf.Tensor, ...w: tf.Tensor[]) => {
        let h: tf.Tensor = probe(input, seen)
        for (const wi of w) h = tf.relu(tf.matMul(h, wi))
        return tf.sum(h)
      })([x, ...ws])
      tf.dispose(gs)
      return seen[0] - before
    }
    const theirs = (f: (...xs: tf.Tensor[]) => tf.Tensor) => (xs: tf.Tensor[]) => tf.grads(f)(xs)
    const held = run(gradientsOf)
    const heldByTfjs = run(theirs)
    // tfjs: the 8 layers' saved inputs and outputs, every gradient between them, and the
    // weights' gradients (measured: 43 activations' bytes).
    expect(heldByTfjs).toBeGreaterThan(20 * activation)
    // Here: the weights' gradients (4 activations' bytes) and the gradients at the input
    // (measured: 6).
    expect(held).toBeLessThan(8 * activation)
    tf.dispose([...ws, x])
  })

  it('gives a gradient of zeros for an input the result does not depend on', async () => {
    const a = tf.tensor1d([1, 2, 3])
    const b = tf.tensor1d([4, 5, 6])
    const [da, db] = gradientsOf((p: tf.Tensor) => tf.sum(tf.square(p)))([a, b])
    expect(Array.from(await da.data())).toEqual([2, 4, 6])
    expect(Array.from(await db.data())).toEqual([0, 0, 0])
    tf.dispose([a, b, da, db])
  })

  it('leaves nothing behind when the forward or a gradient throws, and works again after', async () => {
    const x = tf.tensor2d([
      [1, 2],
      [3, 4],
    ])
    const failing = customGradient<tf.Tensor>(([t]) => ({
      value: tf.clone(t),
      gradFunc: () => {
        throw new Error('a gradient failed')
      },
    }))
    const before = tf.memory().numTensors
    // The failing gradient sits under a product that saved its inputs for the backward.
    expect(() =>
      gradientsOf((t: tf.Tensor) => tf.sum(tf.matMul(failing(t) as tf.Tensor2D, t as tf.Tensor2D)))(
        [x],
      ),
    ).toThrow('a gradient failed')
    expect(tf.memory().numTensors).toBe(before)
    expect(() =>
      gradientsOf((t: tf.Tensor) => {
        tf.matMul(t, t)
        throw new Error('the forward failed')
      })([x]),
    ).toThrow('the forward failed')
    expect(tf.memory().numTensors).toBe(before)
    const [dx] = gradientsOf((t: tf.Tensor) => tf.sum(tf.square(t)))([x])
    expect(Array.from(await dx.data())).toEqual([2, 4, 6, 8])
    tf.dispose([x, dx])
  })
})
