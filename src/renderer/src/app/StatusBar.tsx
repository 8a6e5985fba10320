import { Cpu, FileBox, Loader2, WifiOff } from 'lucide-react'
import { useState } from 'react'
import { useLocation } from 'wouter'
import { useApiQuery } from '../api/client'
import { ProgressBar } from '../components/ProgressBar'
import { jobKindDefinitions, progressFraction } from '../../../shared/jobs'
import type { BackendState } from '../../../shared/types'
import { JobsPanel } from './JobsPanel'
import { useBackendState } from './useBackendState'
import { useActiveJobs } from './useJobs'

function backendLabel(state: BackendState | undefined): {
  text: string
  tone: string
  title: string
} {
  if (!state || state.status === 'probing')
    return { text: 'Detecting backend…', tone: 'busy', title: 'Loading TensorFlow.js in a worker' }
  if (state.status === 'failed') return { text: 'No backend', tone: 'error', title: state.message }
  const { info } = state
  const skipped = info.skipped.map((s) => `${s.name}: ${s.reason}`).join('\n')
  const gpu = info.gpu
    ? `\nGPU: ${info.gpu.description || info.gpu.device} (${info.gpu.vendor} ${info.gpu.architecture})`
    : ''
  return {
    text: `${info.name} · ${info.detail}`,
    tone: 'ok',
    title: `${info.package} ${info.version}${gpu}${skipped ? `\nSkipped:\n${skipped}` : ''}`,
  }
}

/** Always visible: which project, which compute backend, what is running. */
export function StatusBar({ connected }: { connected: boolean }) {
  const [, navigate] = useLocation()
  const [jobsOpen, setJobsOpen] = useState(false)
  const { data: project } = useApiQuery('project.current', {})
  const { data: backend } = useBackendState()
  const active = useActiveJobs()
  const running = active.find((j) => j.state === 'running')
  const b = backendLabel(backend)

  return (
    <footer className="statusbar" aria-label="Status">
      <button
        className="status-item"
        onClick={() => navigate('/settings')}
        title={project?.path ?? 'No project open'}
      >
        <FileBox size={13} aria-hidden />
        <span className="truncate" data-testid="status-project">
          {project ? project.name : 'No project'}
        </span>
      </button>
      <button className="status-item" onClick={() => navigate('/settings')} title={b.title}>
        <span className="status-dot" data-tone={b.tone} aria-hidden />
        <Cpu size={13} aria-hidden />
        <span className="truncate" data-testid="status-backend">
          {b.text}
        </span>
      </button>
      {!connected && (
        <span className="status-item" role="status" style={{ color: 'var(--danger)' }}>
          <WifiOff size={13} aria-hidden /> Reconnecting to the server…
        </span>
      )}
      <span className="status-spacer" />
      <button
        className="status-item"
        data-jobs-toggle
        aria-expanded={jobsOpen}
        onClick={() => setJobsOpen(!jobsOpen)}
        data-testid="status-jobs"
      >
        {running ? (
          <>
            <Loader2 size={13} className="spin" aria-hidden />
            <span className="truncate">{jobKindDefinitions[running.kind].title}</span>
            <ProgressBar
              className="status-progress"
              fraction={progressFraction(running.progress)}
              label={`${jobKindDefinitions[running.kind].title} progress`}
            />
            {active.length > 1 && <span>+{active.length - 1}</span>}
          </>
        ) : active.length > 0 ? (
          <span>{active.length} queued</span>
        ) : (
          <span>No jobs running</span>
        )}
      </button>
      {jobsOpen && <JobsPanel active={active} onClose={() => setJobsOpen(false)} />}
    </footer>
  )
}
