import smallMoe from '../../../../../resources/presets/small-moe.json'
import tinyDense from '../../../../../resources/presets/tiny-dense.json'
import tinyMoe from '../../../../../resources/presets/tiny-moe.json'

export interface Preset {
  id: string
  title: string
  summary: string
  model: Record<string, unknown>
  train: Record<string, unknown>
}

/** The run presets (the same files `frugal train --config` can use as examples). */
export const presets: Preset[] = [
  {
    id: 'tiny-dense',
    title: 'Tiny dense',
    summary: '4 layers × 128 wide; learns in minutes on a CPU.',
    ...tinyDense,
  },
  {
    id: 'tiny-moe',
    title: 'Tiny MoE',
    summary: '8 routed experts + 1 shared, top-2, auxiliary-loss-free balancing.',
    ...tinyMoe,
  },
  {
    id: 'small-moe',
    title: 'Small MoE',
    summary:
      '6 layers × 256 wide, 16 experts, gradient checkpointing; for a GPU or a long CPU run.',
    ...smallMoe,
  },
]
