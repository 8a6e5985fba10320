import type { Store } from '../../store'
import type { LoadedModel } from '../infer/load'
import { countParams } from '../model/params'
import { expertHidden } from '../model/config'
import { hfArchitecture, type HfHead } from './hf'
import type { ExportDtype } from './export'
import { documentStart } from '../tokenizer'

const fmt = (n: number) => n.toLocaleString('en')
const round = (x: number | null, d = 4) => (x === null ? 'n/a' : x.toFixed(d))

/** The README.md of an exported model: what it is, how it was trained, how to load it. */
export function modelCard(
  store: Store,
  m: LoadedModel,
  dtype: Exclude<ExportDtype, 'q8_0'>,
  head: HfHead = 'lm',
): string {
  const c = m.config
  const counts = countParams(c)
  const data = m.run.data
  const dataset =
    data.datasetId === null
      ? 'data outside this project (imported model)'
      : (store.datasets.get(data.datasetId)?.name ?? `dataset ${data.datasetId}`)
  const tokenizer = store.tokenizers.get(data.tokenizerId)
  const arch = c.moe
    ? `DeepSeekMoE-style mixture of experts: ${c.moe.routedExperts} routed experts of width ${expertHidden(c)}` +
      `${c.moe.sharedExperts ? ` plus ${c.moe.sharedExperts} shared` : ''}, ${c.moe.routing === 'topp' ? `top-p ${c.moe.topP} (at most ${c.moe.topK})` : `top-${c.moe.topK}`} ` +
      `${c.moe.affinity} routing, ${c.moe.balance} balancing, the first ${c.moe.firstDenseLayers} layer(s) dense`
    : 'dense SwiGLU feed-forward'
  const lines = [
    `# ${m.run.name}`,
    '',
    `A decoder-only language model trained with Frugal on \`${dataset}\`, exported from`,
    `checkpoint ${m.checkpoint.id} (step ${fmt(m.checkpoint.step)}) of run \`${m.run.id}\`.`,
    '',
    '## Model',
    '',
    `- ${c.layers} layers, width ${c.width}, ${c.heads} heads${c.kvHeads !== null && c.kvHeads !== c.heads ? ` sharing ${c.kvHeads} key/value heads` : ''}, context ${fmt(c.contextLength)} tokens, vocabulary ${fmt(c.vocabSize)}.`,
    `- RMSNorm (ε ${c.normEps}), rotary positions (θ ${c.ropeTheta}${c.ropeScaling ? `, Llama 3 scaling ×${c.ropeScaling.factor}` : ''}), causal attention` +
      `${c.attentionBias ? ' with q, k and v biases' : ''}` +
      `${c.attentionWindow ? ` over a sliding window of ${c.attentionWindow}${c.globalTokens ? ` with ${c.globalTokens} global tokens` : ''}` : ''}, ${arch}.`,
    `- ${c.tieEmbeddings ? 'Tied input and output embeddings.' : 'Separate output projection.'}` +
      `${c.shareGroupSize > 1 ? ` Groups of ${c.shareGroupSize} consecutive layers share weights (written once per layer here).` : ''}`,
    `- ${fmt(counts.total)} parameters, ${fmt(counts.active)} active per token.`,
    `- Weights: ${dtype}.`,
    '',
    '## Training',
    '',
    `| | |`,
    `|---|---|`,
    `| dataset | ${dataset} |`,
    `| tokenizer | ${tokenizer ? `${tokenizer.name} (${tokenizer.kind}, ${fmt(tokenizer.vocabSize)} ids)` : 'n/a'} |`,
    `| steps | ${fmt(m.checkpoint.step)} |`,
    `| tokens seen | ${fmt(m.run.tokensSeen)} |`,
    `| training loss at this checkpoint | ${round(m.checkpoint.trainLoss)} |`,
    `| validation loss at this checkpoint | ${round(m.checkpoint.valLoss)} |`,
    `| best validation loss of the run | ${round(m.run.bestValLoss)} |`,
    `| wall time | ${(m.run.wallMs / 1000).toFixed(0)} s |`,
    `| backend | ${m.run.backend ?? 'n/a'} |`,
    '',
  ]
  if (head === 'score') {
    const tok = m.tokenizer
    const named = (ids: number[]) => ids.map((id) => `\`${tok.idToToken(id)}\``).join(' ')
    const start = documentStart(tok)
    lines.push(
      '## A reward model',
      '',
      'It scores a reply to a prompt (Bradley-Terry, trained on preferred and rejected replies): the',
      "final normed state of the sequence's last token times `score.weight`. Lay the input out as it",
      `trained: ${start.length ? `${named(start)}, then ` : ''}the prompt's tokens and the reply's` +
        `${tok.eos !== null ? `, then ${named([tok.eos])}` : ''}; or a conversation through the chat ` +
        'template in tokenizer_config.json, the reply as the last assistant turn. Only differences ' +
        'between the scores of replies to one prompt mean anything.',
      '',
      '## Loading',
      '',
      `A standard ${hfArchitecture(c, head).className} checkpoint with one label: ` +
        '`AutoModelForSequenceClassification.from_pretrained(folder)`; its logit is the score. ' +
        'Frugal imports the folder as a reward model.',
      '',
    )
  } else
    lines.push(
      '## Loading',
      '',
      c.moe || c.shareGroupSize > 1 || c.globalTokens > 0
        ? 'The tensor names and config follow Llama and DeepSeekMoE; the `frugal_*` fields of config.json ' +
            'say what those formats lack. Frugal imports the folder as it is.'
        : `A standard ${hfArchitecture(c).className} checkpoint: \`AutoModelForCausalLM.from_pretrained(folder)\`.`,
      '',
      "The exact forward pass, with every tensor name and shape, is documented in Frugal's docs/MODEL.md.",
      '',
    )
  return lines.join('\n')
}
