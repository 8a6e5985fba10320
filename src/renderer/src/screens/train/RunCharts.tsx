import { useState } from 'react'
import { TimeSeriesChart, type ChartSeries } from '../../components/charts/TimeSeriesChart'
import type { RunMetrics } from '../../../../shared/runs'
import { align, smooth } from './series'

interface ChartSpec {
  title: string
  metrics: { name: string; label: string; points?: boolean; color?: string }[]
  /** Values are shown scaled (e.g. bytes as MB). */
  scale?: number
  unit?: string
  /** Only when the run records it. */
  optional?: boolean
  /** Only when the run records this metric (e.g. a teacher's KL). */
  requires?: string
  log?: boolean
}

const palette = [
  'var(--accent)',
  '#e8590c',
  '#2b8a3e',
  '#ae3ec9',
  '#1098ad',
  '#f08c00',
  '#c92a2a',
  '#5c7cfa',
]

function layerMetrics(names: readonly string[], prefix: string) {
  return names
    .filter((n) => n.startsWith(prefix))
    .sort()
    .map((n, i) => ({
      name: n,
      label: n.slice(n.lastIndexOf('.') + 1),
      color: palette[i % palette.length],
    }))
}

/** Every chart of a run, from one metrics response. */
export function RunCharts({ metrics }: { metrics: RunMetrics }) {
  const [logScale, setLogScale] = useState(false)
  const [smoothing, setSmoothing] = useState(0.6)
  const names = metrics.names
  const specs: ChartSpec[] = [
    {
      title: 'Loss',
      metrics: [
        { name: 'loss', label: 'train' },
        { name: 'val_loss', label: 'validation', points: true, color: '#e8590c' },
      ],
      log: true,
    },
    {
      title: 'Distillation loss parts',
      metrics: [
        { name: 'loss', label: 'CE (labels)' },
        { name: 'distill_kl', label: 'T²·KL (teacher)', color: '#ae3ec9' },
        { name: 'distill_hidden', label: 'hidden MSE', color: '#1098ad' },
      ],
      log: true,
      requires: 'distill_kl',
    },
    {
      title:
        'Preference rewards (DPO: β · log-ratio to the reference; SimPO: per token; reward model: its score)',
      metrics: [
        { name: 'pref_chosen_reward', label: 'chosen', color: '#2b8a3e' },
        { name: 'pref_rejected_reward', label: 'rejected', color: '#e03131' },
        { name: 'pref_margin', label: 'margin' },
      ],
      requires: 'pref_margin',
    },
    {
      title: 'Preference accuracy (pairs ordered right)',
      metrics: [
        { name: 'pref_accuracy', label: 'train (reward)' },
        { name: 'val_accuracy', label: 'held out (reward)', points: true, color: '#e8590c' },
        {
          name: 'val_preferred',
          label: 'held out (chosen likelier per token)',
          points: true,
          color: '#ae3ec9',
        },
      ],
      requires: 'pref_accuracy',
    },
    {
      title: 'GRPO rewards (mean of the sampled replies; spread: within a group)',
      metrics: [
        { name: 'grpo_reward', label: 'train' },
        { name: 'grpo_reward_spread', label: 'spread', color: '#ae3ec9' },
        { name: 'val_reward', label: 'held out (sampled)', points: true, color: '#e8590c' },
        { name: 'val_greedy_reward', label: 'held out (greedy)', points: true, color: '#2b8a3e' },
      ],
      requires: 'grpo_reward',
    },
    {
      title: 'GRPO accuracy (replies the answer checks pass)',
      metrics: [
        { name: 'grpo_accuracy', label: 'train (sampled)' },
        { name: 'val_accuracy', label: 'held out (sampled)', points: true, color: '#e8590c' },
        {
          name: 'val_greedy_accuracy',
          label: 'held out (greedy)',
          points: true,
          color: '#2b8a3e',
        },
      ],
      requires: 'grpo_accuracy',
    },
    {
      title: 'GRPO KL to the reference (nats per token) and share clipped',
      metrics: [
        { name: 'grpo_kl', label: 'KL' },
        { name: 'grpo_clipped', label: 'clipped', color: '#c92a2a' },
      ],
      requires: 'grpo_kl',
    },
    {
      title: 'Reply length (tokens)',
      metrics: [{ name: 'grpo_length', label: 'mean', color: '#1098ad' }],
      requires: 'grpo_length',
    },
    {
      title: 'Curriculum mix (share of each bucket)',
      metrics: [
        { name: 'curriculum.easy', label: 'easy', color: '#2b8a3e' },
        { name: 'curriculum.medium', label: 'medium', color: '#f08c00' },
        { name: 'curriculum.hard', label: 'hard', color: '#e03131' },
      ],
      requires: 'curriculum.easy',
    },
    {
      title: 'Batch size and gradient noise scale (sequences)',
      metrics: [
        { name: 'batch_sequences', label: 'batch' },
        { name: 'noise_scale', label: 'B_noise', color: '#ae3ec9' },
      ],
      log: true,
      requires: 'batch_sequences',
    },
    {
      title: 'Sequence length (tokens)',
      metrics: [{ name: 'context_length', label: 'length' }],
      requires: 'context_length',
    },
    {
      title: 'Tokens per step',
      metrics: [{ name: 'batch_tokens', label: 'tokens', color: '#1098ad' }],
      requires: 'batch_tokens',
    },
    { title: 'Learning rate', metrics: [{ name: 'lr', label: 'lr' }] },
    {
      title: 'Gradient norm (before clipping)',
      metrics: [{ name: 'grad_norm', label: 'norm' }],
      log: true,
    },
    { title: 'Throughput', metrics: [{ name: 'tokens_per_sec', label: 'tokens/s' }] },
    { title: 'Model FLOPs utilization', metrics: [{ name: 'mfu', label: 'MFU' }], optional: true },
    {
      title: 'Loss scale and skipped steps',
      metrics: [
        { name: 'loss_scale', label: 'scale' },
        { name: 'skipped', label: 'skipped', points: true, color: '#c92a2a' },
      ],
      log: true,
      optional: true,
    },
    {
      title: 'Router entropy (nats)',
      metrics: layerMetrics(names, 'moe.entropy.'),
      optional: true,
    },
    {
      title: 'Expert imbalance (max/mean load)',
      metrics: layerMetrics(names, 'moe.imbalance.'),
      optional: true,
    },
    {
      title: 'Dropped assignments (capacity)',
      metrics: layerMetrics(names, 'moe.dropped.'),
      optional: true,
    },
    {
      title: 'Experts per token',
      metrics: layerMetrics(names, 'moe.experts_per_token.'),
      optional: true,
    },
    {
      title: 'Memory',
      metrics: [
        { name: 'memory_bytes', label: 'tensors (MB)' },
        { name: 'rss_bytes', label: 'process RSS (MB)', color: '#2b8a3e' },
      ],
      scale: 1e-6,
    },
    {
      title: 'GPU memory (WebGPU)',
      metrics: [
        { name: 'gpu_tensor_bytes', label: 'tensors (MB)' },
        { name: 'gpu_reserved_bytes', label: 'reserved, peak (MB)', color: '#2b8a3e' },
      ],
      scale: 1e-6,
      optional: true,
    },
    { title: 'CPU', metrics: [{ name: 'cpu_percent', label: 'process CPU %' }], optional: true },
    {
      title: 'GPU',
      metrics: [
        { name: 'gpu_util', label: 'utilization %' },
        { name: 'gpu_memory_mb', label: 'memory (MB)', color: '#2b8a3e' },
      ],
      optional: true,
    },
  ]
  const visible = specs.filter(
    (s) =>
      s.metrics.length > 0 &&
      (!s.requires || metrics.series[s.requires]?.step.length) &&
      (!s.optional || s.metrics.some((m) => metrics.series[m.name]?.step.length)),
  )
  return (
    <div className="stack">
      <div className="row">
        <label className="row small">
          <input
            type="checkbox"
            checked={logScale}
            onChange={(e) => setLogScale(e.target.checked)}
          />{' '}
          Log scale (loss, norm, scale)
        </label>
        <label className="row small">
          Smoothing
          <input
            type="range"
            min={0}
            max={0.99}
            step={0.01}
            value={smoothing}
            onChange={(e) => setSmoothing(Number(e.target.value))}
            aria-label="Smoothing"
          />
          <span className="mono">{smoothing.toFixed(2)}</span>
        </label>
      </div>
      <div className="chart-grid">
        {visible.map((spec) => {
          const data = align(spec.metrics.map((m) => metrics.series[m.name]))
          const [xs, ...cols] = data
          const shown = [
            xs,
            ...cols.map((col, i) => {
              const scaled = spec.scale
                ? col.map((v) => (v === null ? null : v * spec.scale!))
                : col
              // Sparse series (validation loss) are shown as measured.
              return spec.metrics[i].points ? scaled : smooth(scaled, smoothing)
            }),
          ]
          const series: ChartSeries[] = spec.metrics.map((m) => ({
            label: m.label,
            color: m.color,
            points: m.points,
          }))
          // "Loss: latest 2.345, validation 2.401": the first series' value, then the others'.
          const latest = spec.metrics
            .map((m) => ({ label: m.label, value: metrics.series[m.name]?.value.at(-1) }))
            .filter((m): m is { label: string; value: number } => m.value !== undefined)
          const last = latest[0]?.value
          const others = latest
            .slice(1)
            .map((m) => `, ${m.label} ${m.value.toPrecision(4)}`)
            .join('')
          return (
            <section key={spec.title} className="chart-card" aria-label={spec.title}>
              <h3>{spec.title}</h3>
              <TimeSeriesChart
                data={shown}
                series={series}
                xLabel="step"
                height={180}
                logScale={logScale && !!spec.log}
                summary={`${spec.title}: latest ${last === undefined ? 'none' : last.toPrecision(4)}${others}`}
              />
            </section>
          )
        })}
      </div>
    </div>
  )
}
