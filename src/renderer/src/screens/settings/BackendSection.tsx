import { Gauge, RefreshCw } from 'lucide-react'
import { useState } from 'react'
import { useApiMutation } from '../../api/client'
import { useJob } from '../../api/jobs'
import { useBackendState } from '../../app/useBackendState'
import { Button } from '../../components/Button'
import { TimeSeriesChart } from '../../components/charts/TimeSeriesChart'
import { Notice } from '../../components/Notice'
import { Panel } from '../../components/Page'
import { ProgressBar } from '../../components/ProgressBar'
import { progressFraction, type JobResults } from '../../../../shared/jobs'
import type { GpuInfo } from '../../../../shared/types'

type Benchmark = JobResults['backend.benchmark']

/** Which tfjs backend trains here, why, and how fast it multiplies matrices. */
export function BackendSection() {
  const { data: state } = useBackendState()
  const reprobe = useApiMutation('system.reprobeBackend')
  const [benchJob, setBenchJob] = useState<string | null>(null)
  const [points, setPoints] = useState<[number[], number[]]>([[], []])
  const [result, setResult] = useState<Benchmark | null>(null)
  const [benchError, setBenchError] = useState<string | null>(null)
  const start = useApiMutation('jobs.start', {
    onSuccess: (job) => setBenchJob(job.id),
    onError: (err) => setBenchError(err.message),
  })
  const cancel = useApiMutation('jobs.cancel')

  const { progress } = useJob(benchJob, {
    onProgress: (p) => {
      const gflops = p.metrics?.gflops
      if (gflops !== undefined)
        setPoints(([xs, ys]) => [
          [...xs, p.done],
          [...ys, gflops],
        ])
    },
    onEnd: (job) => {
      setBenchJob(null)
      if (job.state === 'succeeded') setResult(job.result as Benchmark)
      else if (job.state === 'failed') setBenchError(job.error?.message ?? 'The benchmark failed.')
    },
  })

  const run = () => {
    setPoints([[], []])
    setResult(null)
    setBenchError(null)
    start.mutate({ kind: 'backend.benchmark', params: { seconds: 5, size: 512 } })
  }

  return (
    <Panel
      id="backend"
      title="Compute backend"
      description="TensorFlow.js picks the fastest backend that works here: CUDA through libtensorflow, WebGPU on your graphics card (any vendor, nothing to install), native CPU, WebAssembly, then plain JavaScript."
      actions={
        <Button
          icon={<RefreshCw size={14} />}
          disabled={state?.status === 'probing'}
          onClick={() => reprobe.mutate({})}
        >
          Detect again
        </Button>
      }
    >
      <div className="stack">
        {(!state || state.status === 'probing') && (
          <p className="muted">Detecting the backend in a worker process…</p>
        )}
        {state?.status === 'failed' && <Notice tone="error">{state.message}</Notice>}
        {state?.status === 'ready' && (
          <>
            <dl className="facts" aria-label="Backend facts">
              <dt>Backend</dt>
              <dd>
                <strong>{state.info.name}</strong> · {state.info.detail}
              </dd>
              <dt>Package</dt>
              <dd className="mono">
                {state.info.package} {state.info.version}
              </dd>
              {state.info.gpu && <GpuFacts gpu={state.info.gpu} />}
              {state.info.skipped.map((s) => (
                <div key={s.name} style={{ display: 'contents' }}>
                  <dt>Skipped {s.name}</dt>
                  <dd className="muted">{s.reason}</dd>
                </div>
              ))}
            </dl>
            {state.info.forced && (
              <Notice tone="info">
                The environment variable FRUGAL_BACKEND={state.info.name} chose this backend, so no
                other was tried. Start Frugal without it to use the best one this machine has.
              </Notice>
            )}
            {!state.info.forced && (state.info.name === 'wasm' || state.info.name === 'cpu') && (
              <Notice tone="info">
                No graphics card was found that WebGPU can use (see why above). On a machine with
                one, install its vendor&apos;s Vulkan driver (Linux), or keep macOS or Windows up to
                date, then choose Detect again.
              </Notice>
            )}
            {state.info.gpu?.software && (
              <Notice tone="info">
                This adapter is a CPU emulating a GPU ({state.info.gpu.description}): it trains
                correctly but more slowly than WebAssembly, which is why it is used only when asked
                for.
              </Notice>
            )}
          </>
        )}
        <div className="row">
          <Button
            icon={<Gauge size={14} />}
            disabled={benchJob !== null || state?.status !== 'ready'}
            onClick={run}
          >
            Measure speed
          </Button>
          {benchJob && (
            <Button variant="danger" onClick={() => cancel.mutate({ id: benchJob })}>
              Stop
            </Button>
          )}
          {result && (
            <span role="status">
              <strong>{result.gflops.toFixed(1)} GFLOP/s</strong>{' '}
              <span className="muted">
                median of {result.iterations} products of {result.size}×{result.size} matrices (best{' '}
                {result.bestGflops.toFixed(1)})
              </span>
            </span>
          )}
        </div>
        {benchJob && (
          <ProgressBar fraction={progressFraction(progress)} label="Benchmark progress" />
        )}
        {benchError && <Notice tone="error">{benchError}</Notice>}
        {points[0].length > 1 && (
          <TimeSeriesChart
            data={points}
            series={[{ label: 'GFLOP/s' }]}
            xLabel="seconds"
            height={180}
            summary={`Matrix multiply throughput, latest ${points[1].at(-1)?.toFixed(1)} GFLOP/s`}
          />
        )}
      </div>
    </Panel>
  )
}

const mb = (bytes: number) => `${Math.round(bytes / 2 ** 20).toLocaleString()} MB`

/** The WebGPU adapter: which GPU, what it can do that training uses, and its size limits. */
function GpuFacts({ gpu }: { gpu: GpuInfo }) {
  return (
    <>
      <dt>GPU</dt>
      <dd>
        {gpu.description || gpu.device}
        {gpu.software ? ' (software)' : ''}
      </dd>
      <dt>Vendor</dt>
      <dd>
        {gpu.vendor}
        {gpu.architecture ? ` · ${gpu.architecture}` : ''}
      </dd>
      <dt>Features</dt>
      <dd>
        {gpu.features.length ? gpu.features.join(', ') : 'none of shader-f16, timestamp-query'}
      </dd>
      <dt>Limits</dt>
      <dd>
        largest buffer {mb(gpu.limits.maxBufferSize)}, largest binding{' '}
        {mb(gpu.limits.maxStorageBufferBindingSize)}
      </dd>
    </>
  )
}
