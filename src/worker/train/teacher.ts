import * as tf from '@tensorflow/tfjs-core'
import { inferenceConfig, type ModelConfig } from '../model/config'
import { softTargets } from '../model/loss'
import { Transformer, type Params } from '../model/model'
import { paramSpecs } from '../model/params'
import type { Batch } from './data'
import type { HiddenAlignment } from './hidden-align'

/** What the teacher gives each batch: soft targets (N, V) and aligned hidden states (N, d_t). */
export interface TeacherTargets {
  soft: tf.Tensor2D
  hidden: tf.Tensor2D[]
}

/** A frozen model whose predictions (and hidden states) the student learns from. */
export class Teacher {
  private constructor(
    private readonly model: Transformer,
    private readonly params: Params,
    private readonly layers: number[],
    /** The student's ids: the teacher's logits beyond them (padding rows) are cut off. */
    private readonly vocabSize: number,
  ) {}

  static load(
    t: { config: ModelConfig; weights: ReadonlyMap<string, Float32Array> },
    student: ModelConfig,
    alignment: HiddenAlignment | null,
  ): Teacher {
    if (t.config.contextLength < student.contextLength)
      throw new Error(
        `The teacher's context (${t.config.contextLength}) is shorter than the student's (${student.contextLength}).`,
      )
    // Imported models often pad their embedding past the tokenizer (Qwen2.5: 151,936 rows
    // for 151,665 ids); those rows are never a real token, so only fewer is a mismatch.
    if (t.config.vocabSize < student.vocabSize)
      throw new Error(
        `The teacher has ${t.config.vocabSize} token ids and the student ${student.vocabSize}: they must share a tokenizer.`,
      )
    // Inference semantics: no MoE capacity limit, as in the teacher's own evaluation.
    const config = inferenceConfig(t.config)
    const params: Params = {}
    for (const spec of paramSpecs(config)) {
      const values = t.weights.get(spec.name)
      if (!values) throw new Error(`The teacher's checkpoint has no parameter ${spec.name}.`)
      params[spec.name] = tf.tensor(values, spec.shape)
    }
    return new Teacher(
      new Transformer(config),
      params,
      alignment?.pairs.map((p) => p.teacher) ?? [],
      student.vocabSize,
    )
  }

  /**
   * softmax(teacher logits / T) for every row of the batch, (B·T, V), and the outputs of
   * the aligned teacher layers, in the alignment's pair order. Windows longer than the
   * teacher's context are refused at load time (contexts must fit).
   */
  async targets(batch: Batch, temperature: number): Promise<TeacherTargets> {
    const ids = tf.tensor1d(batch.inputs, 'int32')
    const out = await this.model.forwardAsync(this.params, ids, batch.B, batch.T, {
      hidden: this.layers,
    })
    const V = this.vocabSize
    const soft = tf.tidy(() =>
      softTargets(
        out.logits.shape[1] === V ? out.logits : tf.slice(out.logits, [0, 0], [-1, V]),
        temperature,
      ),
    ) // (B·T, V)
    tf.dispose([ids, out.logits, ...(out.aux ? [out.aux] : [])])
    // The same layer may be aligned twice; its state is one tensor, disposed once by the caller.
    const hidden = this.layers.map((l) => out.hidden.get(l)!)
    for (const [l, h] of out.hidden) if (!this.layers.includes(l)) h.dispose()
    return { soft, hidden }
  }

  dispose(): void {
    for (const t of Object.values(this.params)) t.dispose()
    this.model.dispose()
  }
}
