import * as tf from '@tensorflow/tfjs-core'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { modelConfigSchema } from '../../../src/worker/model/config'
import { crossEntropy } from '../../../src/worker/model/loss'
import { Transformer, type Params } from '../../../src/worker/model/model'
import { initialValues, paramSpecs, scoreSpec } from '../../../src/worker/model/params'
import { Rng } from '../../../src/shared/rng'
import { ownedVariable } from '../../../src/worker/model/ops'
import { ChatTemplate, DEFAULT_CHAT_TEMPLATE } from '../../../src/worker/sft/chat-template'
import { parseConversation } from '../../../src/worker/sft/conversation'
import { parsePreference } from '../../../src/worker/sft/preference'
import { structuredDocument, structuredPreview } from '../../../src/shared/structured-document'
import { preferenceLoss } from '../../../src/worker/model/preference-loss'
import type { Example } from '../../../src/worker/sft/examples'
import { packedBatch, packExamples } from '../../../src/worker/sft/pack'
import { pairRows, preferenceBatch } from '../../../src/worker/sft/preference-rows'
import { computeGradients } from '../../../src/worker/train/gradients'
import { float32Numerics } from '../../../src/worker/model/model'
import { fromJSON, trainBpe, trainChar, type Tokenizer } from '../../../src/worker/tokenizer'
import { qwenJson } from '../../helpers/family-tokenizers'
import { gradientError, randomTensor, setupTf } from '../../helpers/tfjs'

beforeAll(async () => {
  await setupTf()
})

describe('conversations from records', () => {
  it('reads the layouts fine-tuning data comes in', () => {
    const messages = [
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: 'Hello.' },
    ]
    expect(parseConversation({ messages })).toEqual({ ok: true, conversation: { messages } })
    expect(
      parseConversation({
        conversations: [
          { from: 'human', value: 'Hi' },
          { from: 'gpt', value: 'Hello.' },
        ],
      }),
    ).toEqual({ ok: true, conversation: { messages } })
    expect(parseConversation({ prompt: 'Hi', response: 'Hello.' })).toEqual({
      ok: true,
      conversation: { messages },
    })
    // Alpaca: the input follows the instruction; a system prompt comes first.
    expect(
      parseConversation({ instruction: 'Add', input: '2 and 3', output: '5', system: 'Be brief.' }),
    ).toEqual({
      ok: true,
      conversation: {
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: 'Add\n\n2 and 3' },
          { role: 'assistant', content: '5' },
        ],
      },
    })
  })

  it('says what is wrong with a record that is not a usable conversation', () => {
    const problem = (r: unknown) => {
      const p = parseConversation(r)
      return p.ok ? null : p.problem
    }
    expect(problem({ messages: [{ role: 'user', content: 'Hi' }] })).toBe(
      'No assistant turn to learn from.',
    )
    expect(
      problem({
        messages: [
          { role: 'user', content: 'Hi' },
          { role: 'assistant', content: '  ' },
        ],
      }),
    ).toBe('Turn 2 (assistant) is empty.')
    expect(problem({ messages: [{ role: 'bot', content: 'x' }] })).toMatch(
      /Turn 1 has the role "bot"/,
    )
    expect(problem({ prompt: 'Hi', response: 3 })).toBe('"response" is not a string.')
    expect(problem({ text: 'plain' })).toMatch(/^Not a conversation/)
    expect(problem([1, 2])).toBe('Not a JSON object.')
  })
})

describe('preference pairs', () => {
  it("reads TRL's layouts: text, conversational, and whole conversations with an implicit prompt", () => {
    expect(parsePreference({ prompt: 'Q', chosen: 'good', rejected: 'bad' })).toEqual({
      ok: true,
      pair: { format: 'text', prompt: 'Q', chosen: 'good', rejected: 'bad' },
    })
    const user = { role: 'user', content: 'Q' }
    expect(
      parsePreference({
        prompt: [user],
        chosen: [{ role: 'assistant', content: 'good' }],
        rejected: 'bad',
      }),
    ).toEqual({
      ok: true,
      pair: { format: 'chat', prompt: [user], chosen: 'good', rejected: 'bad' },
    })
    expect(
      parsePreference({
        chosen: [user, { role: 'assistant', content: 'good' }],
        rejected: [user, { role: 'assistant', content: 'bad' }],
      }),
    ).toEqual({
      ok: true,
      pair: { format: 'chat', prompt: [user], chosen: 'good', rejected: 'bad' },
    })
    const problem = (r: unknown) => {
      const p = parsePreference(r)
      return p.ok ? null : p.problem
    }
    expect(problem({ prompt: 'Q', chosen: 'same', rejected: 'same' })).toBe(
      '"chosen" and "rejected" are the same.',
    )
    expect(problem({ prompt: 'Q', chosen: 'x' })).toMatch(/^Not a preference/)
    expect(
      problem({
        chosen: [user, { role: 'assistant', content: 'a' }],
        rejected: [
          { role: 'user', content: 'other' },
          { role: 'assistant', content: 'b' },
        ],
      }),
    ).toMatch(/different prompts/)
    expect(
      problem({ prompt: [user], chosen: [{ role: 'user', content: 'a' }], rejected: 'b' }),
    ).toMatch(/neither text nor one assistant message/)
  })

  it('scores pairs as DPO and SimPO define them', async () => {
    // Two replies of two tokens each (rows 0-1 chosen, 2-3 rejected), vocabulary 3.
    const logits = tf.tensor2d([
      [2, 0, 0],
      [0, 1, 0],
      [0, 0, 3],
      [1, 1, 0],
    ])
    const targets = tf.tensor1d([0, 1, 2, 0], 'int32')
    const logp = (await tf.logSoftmax(logits).array()).map((row, i) => row[[0, 1, 2, 0][i]])
    const c = logp[0] + logp[1]
    const r = logp[2] + logp[3]
    const layout = {
      reply: Int32Array.from([0, 0, 1, 1]),
      mask: Float32Array.from([1, 1, 1, 1]),
      replies: 2,
      last: Int32Array.from([1, 3]),
      chosen: Int32Array.from([0]),
      rejected: Int32Array.from([1]),
      chosenTokens: Float32Array.from([2]),
      rejectedTokens: Float32Array.from([2]),
      refChosen: Float32Array.from([-3]),
      refRejected: Float32Array.from([-1]),
    }
    const softplus = (x: number) => Math.log1p(Math.exp(x))
    const dpo = preferenceLoss(logits, targets, layout, { kind: 'dpo', beta: 0.5, margin: 0 })
    const z = 0.5 * (c + 3) - 0.5 * (r + 1)
    expect((await dpo.loss.data())[0]).toBeCloseTo(softplus(-z), 5)
    expect((await dpo.chosenReward.data())[0]).toBeCloseTo(0.5 * (c + 3), 5)
    expect((await dpo.accuracy.data())[0]).toBe(z > 0 ? 1 : 0)
    const simpo = preferenceLoss(logits, targets, layout, { kind: 'simpo', beta: 2, margin: 1 })
    expect((await simpo.loss.data())[0]).toBeCloseTo(softplus(-(2 * (c / 2) - 2 * (r / 2) - 1)), 5)
    expect((await simpo.preferred.data())[0]).toBe(c / 2 > r / 2 ? 1 : 0)
    // At the start of DPO the policy is its reference: every pair costs log 2.
    const start = preferenceLoss(
      logits,
      targets,
      { ...layout, refChosen: Float32Array.from([c]), refRejected: Float32Array.from([r]) },
      { kind: 'dpo', beta: 0.1, margin: 0 },
    )
    expect((await start.loss.data())[0]).toBeCloseTo(Math.LN2, 6)
  })

  it("has the gradient finite differences give (the reply log-probabilities' closed form)", async () => {
    const targets = tf.tensor1d([0, 1, 2, 0, 3, 1], 'int32')
    const layout = {
      reply: Int32Array.from([0, 0, 0, 1, 1, 1]),
      mask: Float32Array.from([0, 1, 1, 0, 1, 1]),
      replies: 2,
      last: Int32Array.from([2, 5]),
      chosen: Int32Array.from([0]),
      rejected: Int32Array.from([1]),
      chosenTokens: Float32Array.from([2]),
      rejectedTokens: Float32Array.from([2]),
      refChosen: Float32Array.from([-2]),
      refRejected: Float32Array.from([-1.5]),
    }
    for (const objective of [
      { kind: 'dpo' as const, beta: 0.5, margin: 0 },
      { kind: 'simpo' as const, beta: 2, margin: 0.5 },
    ]) {
      const err = await gradientError(
        (z) => preferenceLoss(z as tf.Tensor2D, targets, layout, objective).loss,
        [randomTensor([6, 4], 11)],
      )
      expect(err).toBeLessThan(2e-2)
    }
  })
  it("scores a reward model's pairs by Bradley-Terry on each reply's last-token score", async () => {
    // Two pairs in four rows of T = 3, their last trained targets at 2 (the row's end), 0, 1, 0.
    const pr = {
      rows: {
        count: 4,
        T: 3,
        inputs: new Int32Array(12),
        targets: new Int32Array(12),
        positions: new Int32Array(12),
        segments: new Int32Array(12),
        trained: Uint8Array.from([0, 1, 1, 1, 0, 0, 0, 1, 0, 1, 0, 0]),
      },
      chosenTokens: Float32Array.from([2, 1]),
      rejectedTokens: Float32Array.from([1, 1]),
      refChosen: null,
      refRejected: null,
    }
    const layout = preferenceBatch(pr, [0, 1]).preference!
    // A reply's last token is the input after its last trained target, within the row.
    expect([...layout.last]).toEqual([2, 3 + 1, 6 + 2, 9 + 1])
    const scores = tf.tensor2d([0, 0, 2, 0, 1, 0, 0, 0, 3, 0, 5, 0], [12, 1])
    const out = preferenceLoss(scores, tf.tensor1d(new Int32Array(12), 'int32'), layout, {
      kind: 'reward',
      beta: 1,
      margin: 0,
    })
    const softplus = (x: number) => Math.log1p(Math.exp(x))
    // Pair 0: 2 against 1 (ordered right); pair 1: 3 against 5 (wrong).
    expect((await out.loss.data())[0]).toBeCloseTo((softplus(-1) + softplus(2)) / 2, 5)
    expect((await out.accuracy.data())[0]).toBe(0.5)
    expect((await out.chosenReward.data())[0]).toBeCloseTo(2.5, 6)
    expect((await out.rejectedReward.data())[0]).toBeCloseTo(3, 6)
    const err = await gradientError(
      (z) =>
        preferenceLoss(z as tf.Tensor2D, tf.tensor1d(new Int32Array(12), 'int32'), layout, {
          kind: 'reward',
          beta: 1,
          margin: 0,
        }).loss,
      [randomTensor([12, 1], 5)],
    )
    expect(err).toBeLessThan(2e-2)
  })
})

describe('how the app shows stored conversations and pairs', () => {
  it('reads back what the importer stores, and previews a cut-off record', () => {
    const conversation = JSON.stringify({
      messages: [
        { role: 'user', content: 'Say "hi"' },
        { role: 'assistant', content: 'hi' },
      ],
    })
    expect(structuredDocument(conversation)).toEqual({
      kind: 'conversation',
      turns: [
        { role: 'user', content: 'Say "hi"' },
        { role: 'assistant', content: 'hi' },
      ],
    })
    const pair = JSON.stringify({ format: 'text', prompt: 'Q', chosen: 'a', rejected: 'b' })
    expect(structuredDocument(pair)).toEqual({
      kind: 'preference',
      prompt: [{ role: 'user', content: 'Q' }],
      chosen: 'a',
      rejected: 'b',
    })
    expect(structuredDocument('{"text": "plain"}')).toBeNull()
    expect(structuredDocument('To be, or not')).toBeNull()
    expect(structuredPreview(conversation.slice(0, 50))).toBe('Conversation: Say "hi"')
    // Cut right after an escaped quote, and inside the escape.
    expect(structuredPreview(conversation.slice(0, 45))).toBe('Conversation: Say "')
    expect(structuredPreview(conversation.slice(0, 44))).toBe('Conversation: Say ')
    expect(structuredPreview(pair)).toBe('Preference pair: Q')
    expect(structuredPreview('plain text')).toBeNull()
  })
})

describe('chat templates', () => {
  let chars: Tokenizer
  let qwen: Tokenizer
  beforeAll(async () => {
    const text = 'abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ .:?!\n0123456789+='
    chars = (await trainChar([text])).tokenizer
    const bpe = (await trainBpe([text.repeat(20)], { vocabSize: 300, specialTokens: [] })).tokenizer
    const { vocab, merges } = bpe.toJSON().model
    qwen = fromJSON(qwenJson({ vocab: { ...vocab }, merges: merges as string[] }))
  })
  const talk = [
    { role: 'system' as const, content: 'Be brief.' },
    { role: 'user' as const, content: 'Hi' },
    { role: 'assistant' as const, content: 'Hello.' },
    { role: 'user' as const, content: '2+3?' },
    { role: 'assistant' as const, content: '5' },
  ]

  it("trains exactly the assistant turns and their end token (Frugal's default template)", () => {
    const t = new ChatTemplate(DEFAULT_CHAT_TEMPLATE, chars)
    const r = t.pieces(talk)
    expect(r.ok).toBe(true)
    if (!r.ok) return
    const eos = chars.idToToken(chars.eos!)!
    expect(r.pieces).toEqual([
      { text: 'Be brief.\n\nUser: Hi\n\nAssistant:', trained: false },
      { text: ` Hello.${eos}`, trained: true },
      { text: '\n\nUser: 2+3?\n\nAssistant:', trained: false },
      { text: ` 5${eos}`, trained: true },
      { text: '\n\n', trained: false },
    ])
    // The pieces are the whole rendering, in order.
    expect(r.pieces.map((p) => p.text).join('')).toBe(t.render(talk, false))
    expect(t.render(talk.slice(0, 2), true).endsWith('Assistant:')).toBe(true)
  })

  it('reads a Qwen-style ChatML template with its own end-of-turn token', () => {
    const template =
      "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
    const r = new ChatTemplate(template, qwen).pieces(talk.slice(1, 3))
    expect(r).toEqual({
      ok: true,
      pieces: [
        { text: '<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n', trained: false },
        { text: 'Hello.<|im_end|>', trained: true },
        { text: '\n', trained: false },
      ],
    })
  })

  it("splits Qwen2.5's own template, default system prompt included", () => {
    const template = readFileSync(
      join(import.meta.dirname, '..', '..', 'fixtures', 'chat-templates', 'qwen2.5.jinja'),
      'utf8',
    )
    const r = new ChatTemplate(template, qwen).pieces(talk.slice(1))
    const system =
      '<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n'
    expect(r).toEqual({
      ok: true,
      pieces: [
        {
          text: `${system}<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n`,
          trained: false,
        },
        { text: 'Hello.<|im_end|>', trained: true },
        { text: '\n<|im_start|>user\n2+3?<|im_end|>\n<|im_start|>assistant\n', trained: false },
        { text: '5<|im_end|>', trained: true },
        { text: '\n', trained: false },
      ],
    })
  })

  it('refuses a template that rewrites earlier turns, and one that fails to render', () => {
    // Renders only the last message: earlier turns change once later ones follow.
    const lastOnly = new ChatTemplate('{{ messages[-1].content }}', chars)
    const r = lastOnly.pieces(talk)
    expect(r.ok).toBe(false)
    if (!r.ok) expect(r.problem).toMatch(/renders turn 3 differently/)
    const raising = new ChatTemplate(
      "{{ raise_exception('Only user and assistant roles') }}",
      chars,
    )
    const s = raising.pieces(talk)
    expect(s.ok).toBe(false)
    if (!s.ok) expect(s.problem).toMatch(/does not render: .*Only user and assistant roles/)
  })
})

/** An example of n tokens from `seed`, trained from `prompt` on. */
function example(n: number, prompt: number, seed: number, vocab: number): Example {
  const rng = new Rng(seed)
  return {
    ids: Int32Array.from({ length: n }, () => rng.int(vocab)),
    trained: Uint8Array.from({ length: n }, (_, i) => (i >= prompt ? 1 : 0)),
  }
}

describe('packing', () => {
  it('fits whole conversations into rows, best fit first, and trains only their own next tokens', () => {
    const lengths = [9, 5, 4, 3, 3, 2]
    const examples = lengths.map((n, i) => example(n, 1, i + 1, 50))
    const rows = packExamples(examples, 9, 0) // rows of 10 tokens
    expect(rows.count).toBe(3) // 9 | 5+4 | 3+3+2 (26 tokens in 30)
    const seqs = (r: number) => [...rows.segments.subarray(r * 9, r * 9 + 9)]
    expect(seqs(1)).toEqual([0, 0, 0, 0, 0, 1, 1, 1, 1])
    expect([...rows.positions.subarray(9, 18)]).toEqual([0, 1, 2, 3, 4, 0, 1, 2, 3])
    // Row 1: the 5-token example's last input (t=4) would predict the next example's first
    // token: not trained. Its others are (the prompt is token 0, so targets 1-4 are trained).
    expect([...rows.trained.subarray(9, 18)]).toEqual([1, 1, 1, 1, 0, 1, 1, 1, 0])
    // A packed batch's weights have mean 1 and are zero where nothing is trained.
    const b = packedBatch(rows, [0, 1, 2])
    const w = [...b.packing!.weights]
    expect(w.reduce((a, x) => a + x, 0) / w.length).toBeCloseTo(1, 5)
    w.forEach((x, i) => expect(x > 0).toBe(rows.trained[i] === 1))
  })

  it('gives a conversation packed behind others the logits it has alone', async () => {
    for (const extra of [{}, { attentionWindow: 6 }, { kvHeads: 1 }]) {
      const config = modelConfigSchema.parse({
        vocabSize: 40,
        contextLength: 24,
        layers: 2,
        heads: 2,
        width: 16,
        ...extra,
      })
      const model = new Transformer(config)
      const init = initialValues(config, new Rng(3))
      const P: Params = Object.fromEntries(
        paramSpecs(config).map((s) => [s.name, tf.tensor(init.get(s.name)!, s.shape)]),
      )
      const target = example(11, 3, 7, 40)
      const rows = packExamples([example(13, 2, 8, 40), target], 24, 0)
      expect(rows.count).toBe(1)
      const b = packedBatch(rows, [0])
      const tables = model.packedTables(b.packing!.positions, b.packing!.segments, 1, 24)
      const packed = model.forward(P, tf.tensor1d(b.inputs, 'int32'), 1, 24, { tables })
      const alone = model.forward(P, tf.tensor1d(target.ids.subarray(0, 10), 'int32'), 1, 10)
      const got = await packed.logits.slice([13, 0], [10, 40]).array()
      const want = await alone.logits.array()
      got.forEach((row, i) => row.forEach((x, j) => expect(x).toBeCloseTo(want[i][j], 4)))
      Transformer.disposeTables(tables)
      model.dispose()
    }
  })

  it("gives a reward model's scalar head the same gradients with and without checkpointing", async () => {
    const config = modelConfigSchema.parse({
      vocabSize: 30,
      contextLength: 12,
      layers: 2,
      heads: 2,
      width: 8,
      tieEmbeddings: false,
    })
    const model = new Transformer(config, null, 'score')
    const rng = new Rng(9)
    const init = initialValues(config, rng)
    const specs = [...paramSpecs(config), scoreSpec(config)]
    init.set(scoreSpec(config).name, rng.normalArray(8, 0.5))
    const params = new Map(
      specs.map((s) => [s.name, ownedVariable(tf.tensor(init.get(s.name)!, s.shape), true)]),
    )
    const pr = pairRows(
      [
        { chosen: example(9, 4, 1, 30), rejected: example(7, 4, 2, 30) },
        { chosen: example(6, 2, 3, 30), rejected: example(11, 2, 4, 30) },
      ],
      12,
      0,
    )
    const batch = preferenceBatch(pr, [0, 1])
    // The vocabulary head is not part of a reward model's output: never differentiated.
    const trainable = specs.map((s) => s.name).filter((n) => n !== 'lm_head.weight')
    const grads = async (checkpointing: boolean) => {
      const r = await computeGradients({
        model,
        params,
        trainable,
        batch,
        numerics: float32Numerics,
        lossScale: 1,
        labelSmoothing: 0,
        dropPath: null,
        checkpointing,
        preference: { kind: 'reward', beta: 1, margin: 0 },
      })
      const g = new Map(
        await Promise.all([...r.grads].map(async ([n, t]) => [n, await t.data()] as const)),
      )
      tf.dispose([...r.grads.values()])
      return { loss: r.loss, g }
    }
    const full = await grads(false)
    const recomputed = await grads(true)
    expect(recomputed.loss).toBeCloseTo(full.loss, 6)
    expect([...recomputed.g.keys()].sort()).toEqual([...full.g.keys()].sort())
    expect(full.g.has('score.weight')).toBe(true)
    for (const [name, g] of full.g)
      g.forEach((x, j) => expect(recomputed.g.get(name)![j], name).toBeCloseTo(x, 5))
    tf.dispose([...params.values()])
  })

  it('learns nothing from prompt tokens: their targets change neither the loss nor the gradients', async () => {
    const config = modelConfigSchema.parse({
      vocabSize: 30,
      contextLength: 16,
      layers: 1,
      heads: 2,
      width: 8,
    })
    const model = new Transformer(config)
    const init = initialValues(config, new Rng(5))
    const params = new Map(
      paramSpecs(config).map((s) => [
        s.name,
        ownedVariable(tf.tensor(init.get(s.name)!, s.shape), s.trainable),
      ]),
    )
    const rows = packExamples([example(9, 4, 1, 30), example(8, 3, 2, 30)], 16, 0)
    const batch = packedBatch(rows, [0])
    const grads = async (targets: Int32Array) => {
      const r = await computeGradients({
        model,
        params,
        trainable: [...params.keys()],
        batch: { ...batch, targets },
        numerics: float32Numerics,
        lossScale: 1,
        labelSmoothing: 0,
        dropPath: null,
        checkpointing: false,
      })
      const g = await Promise.all([...r.grads.values()].map((t) => t.data()))
      tf.dispose([...r.grads.values()])
      return { loss: r.loss, g }
    }
    const a = await grads(batch.targets)
    // Scramble every target that is not trained.
    const scrambled = batch.targets.map((t, i) =>
      batch.packing!.weights[i] === 0 ? (t + 7) % 30 : t,
    )
    expect(scrambled).not.toEqual(batch.targets)
    const b = await grads(scrambled)
    expect(b.loss).toBeCloseTo(a.loss, 6)
    a.g.forEach((g, i) => g.forEach((x, j) => expect(b.g[i][j]).toBeCloseTo(x, 6)))
    // The loss is the mean cross-entropy of the trained targets alone.
    const P: Params = Object.fromEntries(params)
    const tables = model.packedTables(batch.packing!.positions, batch.packing!.segments, 1, 16)
    const out = model.forward(P, tf.tensor1d(batch.inputs, 'int32'), 1, 16, { tables })
    const keep = [...batch.packing!.weights].flatMap((w, i) => (w > 0 ? [i] : []))
    const ce = crossEntropy(
      tf.gather<tf.Tensor2D>(out.logits, keep),
      tf.tensor1d(
        keep.map((i) => batch.targets[i]),
        'int32',
      ),
    )
    expect(a.loss).toBeCloseTo((await ce.data())[0], 5)
    Transformer.disposeTables(tables)
  })
})
