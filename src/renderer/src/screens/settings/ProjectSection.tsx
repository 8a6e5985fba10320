import { DatabaseBackup, FilePlus2, FolderOpen, ShieldCheck } from 'lucide-react'
import { useState } from 'react'
import { call, useApiMutation, useApiQuery, useTransport } from '../../api/client'
import { useJob } from '../../api/jobs'
import { Button } from '../../components/Button'
import { PathDialog } from '../../components/forms/PathDialog'
import { Notice } from '../../components/Notice'
import { Panel } from '../../components/Page'
import {
  formatBytes,
  formatCount,
  formatDateTime,
  formatDuration,
  formatRelative,
} from '../../format'
import type { JobResults } from '../../../../shared/jobs'

type DialogKind = 'open' | 'create' | 'backup' | null

/** The open project file: what it holds, backup, integrity check, switching projects. */
export function ProjectSection() {
  const transport = useTransport()
  const { data: project } = useApiQuery('project.current', {})
  const { data: recent } = useApiQuery('project.recent', {})
  const [dialog, setDialog] = useState<DialogKind>(null)
  const [message, setMessage] = useState<{ tone: 'success' | 'error'; text: string } | null>(null)
  const [checkJob, setCheckJob] = useState<string | null>(null)
  const startCheck = useApiMutation('jobs.start', { onSuccess: (job) => setCheckJob(job.id) })
  const openRecent = useApiMutation('project.open', {
    onError: (err) => setMessage({ tone: 'error', text: err.message }),
  })
  const forget = useApiMutation('project.forgetRecent')

  useJob(checkJob, {
    onEnd: (job) => {
      setCheckJob(null)
      if (job.state === 'succeeded') {
        const r = job.result as JobResults['project.integrityCheck']
        setMessage(
          r.ok
            ? { tone: 'success', text: 'Integrity check passed: the file is sound.' }
            : { tone: 'error', text: `Integrity check found problems: ${r.problems.join('; ')}` },
        )
      } else
        setMessage({ tone: 'error', text: job.error?.message ?? `The check was ${job.state}.` })
    },
  })

  const dir = project?.path.replace(/[^/\\]+$/, '') ?? ''
  const others = (recent ?? []).filter((r) => r.path !== project?.path)

  return (
    <Panel
      id="project"
      title="Project"
      description="Everything (data, labels, tokenizers, runs, checkpoints) lives in this one SQLite file."
      actions={
        <>
          <Button icon={<FolderOpen size={14} />} onClick={() => setDialog('open')}>
            Open…
          </Button>
          <Button icon={<FilePlus2 size={14} />} onClick={() => setDialog('create')}>
            New…
          </Button>
        </>
      }
    >
      <div className="stack">
        {project ? (
          <dl className="facts" aria-label="Project facts">
            <dt>File</dt>
            <dd className="mono">{project.path}</dd>
            <dt>Size</dt>
            <dd>{formatBytes(project.sizeBytes)}</dd>
            <dt>Created</dt>
            <dd>{formatDateTime(project.createdAt)}</dd>
            <dt>Schema</dt>
            <dd>version {project.schemaVersion}</dd>
            <dt>Contents</dt>
            <dd>
              {formatCount(project.counts.datasets)} datasets,{' '}
              {formatCount(project.counts.documents)} documents, {formatCount(project.counts.jobs)}{' '}
              jobs
            </dd>
          </dl>
        ) : (
          <Notice tone="info">
            No project is open. Open an existing .frugal file or create a new one.
          </Notice>
        )}
        {project && (
          <div className="row">
            <Button icon={<DatabaseBackup size={14} />} onClick={() => setDialog('backup')}>
              Back up…
            </Button>
            <Button
              icon={<ShieldCheck size={14} />}
              disabled={checkJob !== null}
              onClick={() => {
                setMessage(null)
                startCheck.mutate({ kind: 'project.integrityCheck', params: {} })
              }}
            >
              {checkJob ? 'Checking…' : 'Check integrity'}
            </Button>
          </div>
        )}
        {message && <Notice tone={message.tone}>{message.text}</Notice>}
        {others.length > 0 && (
          <div className="stack" style={{ gap: 6 }}>
            <h3 className="small muted">Recent projects</h3>
            <ul
              className="stack"
              style={{ gap: 4, listStyle: 'none', margin: 0, padding: 0 }}
              aria-label="Recent projects"
            >
              {others.map((r) => (
                <li
                  key={r.path}
                  className="row small"
                  style={{ justifyContent: 'space-between', flexWrap: 'nowrap' }}
                >
                  <span
                    style={{ minWidth: 0, overflow: 'hidden', textOverflow: 'ellipsis' }}
                    title={r.path}
                  >
                    <strong>{r.name}</strong> <span className="muted mono">{r.path}</span>
                  </span>
                  <span className="row" style={{ flex: 'none' }}>
                    <span className="muted">
                      {r.exists ? formatRelative(r.openedAt) : 'missing'}
                    </span>
                    {r.exists ? (
                      <Button
                        size="small"
                        aria-label={`Open ${r.name}`}
                        onClick={() => openRecent.mutate({ path: r.path })}
                      >
                        Open
                      </Button>
                    ) : (
                      <Button
                        size="small"
                        aria-label={`Forget ${r.name}`}
                        onClick={() => forget.mutate({ path: r.path })}
                      >
                        Forget
                      </Button>
                    )}
                  </span>
                </li>
              ))}
            </ul>
          </div>
        )}
      </div>

      <PathDialog
        open={dialog === 'open'}
        title="Open project"
        purpose="openProject"
        label="Project file"
        hint="The full path of an existing .frugal file."
        confirmLabel="Open"
        initialPath={dir}
        onClose={() => setDialog(null)}
        onSubmit={(path) => call(transport, 'project.open', { path })}
      />
      <PathDialog
        open={dialog === 'create'}
        title="New project"
        purpose="createProject"
        label="New project file"
        hint="Where to create it; .frugal is added if you leave out the extension. Existing files are never overwritten."
        confirmLabel="Create"
        initialPath={dir}
        onClose={() => setDialog(null)}
        onSubmit={(path) => call(transport, 'project.create', { path })}
      />
      <PathDialog
        open={dialog === 'backup'}
        title="Back up project"
        purpose="saveBackup"
        label="Backup file"
        hint="A consistent copy made with SQLite's online backup, safe while jobs are running."
        confirmLabel="Back up"
        initialPath={
          project
            ? project.path.replace(
                /\.frugal$/,
                `-backup-${new Date().toISOString().slice(0, 10)}.frugal`,
              )
            : ''
        }
        onClose={() => setDialog(null)}
        onSubmit={async (destination) => {
          const r = await call(transport, 'project.backup', { destination })
          setMessage({
            tone: 'success',
            text: `Backed up to ${r.path} (${formatBytes(r.bytes)} in ${formatDuration(r.wallMs)}).`,
          })
        }}
      />
    </Panel>
  )
}
