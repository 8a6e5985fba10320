import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { UserError } from '../../shared/errors'
import type { Store } from '../../store'
import { modelConfigSchema } from '../model/config'
import { adaptedWeights, adapterNames, isAdapterName } from '../model/lora'
import { paramSpecs } from '../model/params'
import { adapterConfigOf } from '../train/checkpoint/weights'
import { resolveCheckpoint } from '../infer/load'
import type { RunData } from '../../store/repos/runs'
import type { ExportRequest, ExportResult, HfDtype } from './export'
import { storedAs } from './export'
import { hfNames, transpose } from './hf'
import { writeSafetensors, type StoredTensor } from './safetensors'

/**
 * A LoRA run's adapters as a PEFT adapter folder (adapter_config.json and
 * adapter_model.safetensors): what Hugging Face PEFT's `PeftModel.from_pretrained(base,
 * folder)` loads onto the base model's Hugging Face export. In PEFT's layout each adapter
 * is two nn.Linear weights, lora_A [r, in] and lora_B [out, r] (Frugal's A and B
 * transposed), and the update is W + (lora_alpha/r)·B·A in PyTorch's [out, in].
 */
export function exportAdapter(
  store: Store,
  request: ExportRequest & { dtype: HfDtype },
): ExportResult {
  const { out, dtype } = request
  const { run, checkpoint } = resolveCheckpoint(store, request.runId, request.checkpointId)
  const weights = new Map<string, Float32Array>()
  for (const [name, t] of store.checkpoints.tensors(checkpoint.id))
    if (name.startsWith('param/') && isAdapterName(name.slice(6)))
      weights.set(name.slice(6), t.values)
  if (weights.size === 0)
    throw new UserError(
      'invalid_params',
      `Run ${run.name} trained every weight, so it has no adapters: export it as a Hugging Face folder or a GGUF file.`,
      'format',
    )
  if (existsSync(out) && readdirSync(out).length > 0)
    throw new UserError('conflict', `${out} is not empty: choose a new folder.`, 'out')
  const config = modelConfigSchema.parse(run.modelConfig)
  const lora = adapterConfigOf(store, checkpoint.id, run.trainConfig)
  const shapes = new Map(paramSpecs(config).map((s) => [s.name, s.shape]))
  const adapted = new Set(adaptedWeights(config, lora.targets))
  const stored = new Map<string, StoredTensor>()
  const modules: string[] = []
  // Layers that share a weight set each get the set's adapter (PEFT adapts modules).
  for (const [ours, theirs] of hfNames(config)) {
    if (!adapted.has(ours)) continue
    const [input, output] = shapes.get(ours)!
    const { a, b } = adapterNames(ours)
    const module = theirs.replace(/\.weight$/, '')
    modules.push(module)
    const prefix = `base_model.model.${module}`
    stored.set(
      `${prefix}.lora_A.weight`,
      storedAs(dtype, {
        shape: [lora.rank, input],
        values: transpose(weights.get(a)!, input, lora.rank),
      }),
    )
    stored.set(
      `${prefix}.lora_B.weight`,
      storedAs(dtype, {
        shape: [output, lora.rank],
        values: transpose(weights.get(b)!, lora.rank, output),
      }),
    )
  }
  mkdirSync(out, { recursive: true })
  const { bytes } = writeSafetensors(join(out, 'adapter_model.safetensors'), stored, {
    format: 'pt',
    frugal_run: run.id,
    frugal_checkpoint: String(checkpoint.id),
    frugal_step: String(checkpoint.step),
  })
  const base = baseDescription(store, run.data)
  const json = (name: string, value: unknown) =>
    writeFileSync(join(out, name), `${JSON.stringify(value, null, 2)}\n`)
  json('adapter_config.json', {
    peft_type: 'LORA',
    task_type: 'CAUSAL_LM',
    base_model_name_or_path: base.path,
    r: lora.rank,
    lora_alpha: lora.alpha,
    lora_dropout: lora.dropout,
    // Full module paths: PEFT matches a list entry exactly (or as a name's suffix), so a
    // dense MLP's gate_proj never catches the experts' unless they were adapted too.
    target_modules: modules,
    bias: 'none',
    fan_in_fan_out: false,
    use_rslora: false,
    inference_mode: true,
    modules_to_save: null,
  })
  writeFileSync(
    join(out, 'README.md'),
    [
      `# ${run.name}: LoRA adapters (step ${checkpoint.step})`,
      '',
      `Low-rank adapters trained with Frugal on ${base.name}: rank ${lora.rank}, alpha ${lora.alpha}, on ${lora.targets.join(', ')} (${modules.length} modules), ${dtype}.`,
      '',
      'Load them onto the base model exported as a Hugging Face folder:',
      '',
      '```python',
      'from transformers import AutoModelForCausalLM',
      'from peft import PeftModel',
      `base = AutoModelForCausalLM.from_pretrained("${base.path ?? 'path/to/base'}")`,
      'model = PeftModel.from_pretrained(base, "path/to/this/folder")',
      'merged = model.merge_and_unload()  # or keep the adapters separate',
      '```',
      '',
      'Frugal exports the merged model too (a Hugging Face folder or a GGUF file of this checkpoint).',
      '',
      ...(lora.int8Base
        ? [
            'These adapters were trained over the base held in int8 (each adapted weight rounded per output column, symmetric, scale max|w|/127). On the float32 base they give a model close to, not exactly, the one Frugal trained; for exactly that one, export the merged model.',
            '',
          ]
        : []),
    ].join('\n'),
  )
  return {
    format: 'peft',
    dir: out,
    files: readdirSync(out).sort(),
    bytes,
    dtype,
    parameters: [...weights.values()].reduce((n, v) => n + v.length, 0),
    quantization: null,
  }
}

/** The base model the adapters go on: its name, and its folder when it was imported. */
function baseDescription(store: Store, data: RunData): { name: string; path: string | null } {
  const init = data.init ? store.runs.get(data.init.runId) : null
  if (!init) return { name: 'its base model', path: null }
  const imported = init.data.importedFrom ?? null
  return {
    name: `"${init.name}" (checkpoint ${data.init!.checkpointId})`,
    path: imported,
  }
}
