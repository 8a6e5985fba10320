import type { ModelConfig } from './config'
import { names } from './params'

/**
 * Weights of a model whose tokenizer gained tokens after its last id, grown to `c`'s
 * vocabulary: the embedding (V0, D) gains rows and an untied output head (D, V0) gains
 * columns, each new one the mean of the old ones (transformers' `resize_token_embeddings`
 * does the same by default): a new token starts as an average token rather than noise, so
 * its logit starts near the others' and the first steps do not blow up. Old rows are
 * unchanged, so the model computes what it did on every old id. Other weights are shared.
 */
export function growVocabulary(
  c: ModelConfig,
  weights: ReadonlyMap<string, Float32Array>,
): Map<string, Float32Array> {
  const out = new Map(weights)
  const D = c.width
  const V = c.vocabSize
  const embed = weights.get(names.embed)
  if (!embed) throw new Error(`The weights have no ${names.embed}.`)
  const V0 = embed.length / D
  if (V0 === V) return out
  if (V0 > V) throw new Error(`The model has ${V0} embedding rows, more than the ${V} ids.`)
  // (V0, D) -> (V, D): rows appended.
  const grownEmbed = new Float32Array(V * D)
  grownEmbed.set(embed)
  const mean = new Float32Array(D)
  for (let v = 0; v < V0; v++) for (let d = 0; d < D; d++) mean[d] += embed[v * D + d] / V0
  for (let v = V0; v < V; v++) grownEmbed.set(mean, v * D)
  out.set(names.embed, grownEmbed)
  const head = c.tieEmbeddings ? undefined : weights.get(names.lmHead)
  if (head) {
    // (D, V0) -> (D, V): columns appended, each the mean of that row's old columns.
    const grownHead = new Float32Array(D * V)
    for (let d = 0; d < D; d++) {
      let sum = 0
      for (let v = 0; v < V0; v++) {
        grownHead[d * V + v] = head[d * V0 + v]
        sum += head[d * V0 + v]
      }
      for (let v = V0; v < V; v++) grownHead[d * V + v] = sum / V0
    }
    out.set(names.lmHead, grownHead)
  }
  return out
}
