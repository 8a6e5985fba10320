import { Database, Hash } from 'lucide-react'
import { useState } from 'react'
import { useApiMutation, useApiQuery, useEvent } from '../../api/client'
import { Button } from '../../components/Button'
import { EmptyState } from '../../components/EmptyState'
import { Notice } from '../../components/Notice'
import { Page, Panel } from '../../components/Page'
import { formatCount, formatDateTime } from '../../format'
import type { JobResults } from '../../../../shared/jobs'

type CountResult = JobResults['dataset.count']

/** Datasets in the project. Import and cleaning build on this screen. */
export function DataScreen() {
  const { data: datasets, error } = useApiQuery('datasets.list', {})
  const count = useApiMutation('jobs.start')
  const [counts, setCounts] = useState<Record<number, CountResult | string>>({})

  useEvent('job.state', (job) => {
    if (job.kind !== 'dataset.count') return
    const { datasetId } = job.params as { datasetId: number }
    if (job.state === 'succeeded')
      setCounts((c) => ({ ...c, [datasetId]: job.result as CountResult }))
    if (job.state === 'running') setCounts((c) => ({ ...c, [datasetId]: 'Counting…' }))
    if (job.state === 'failed' || job.state === 'cancelled') {
      setCounts((c) => ({ ...c, [datasetId]: job.error?.message ?? `Count ${job.state}.` }))
    }
  })

  return (
    <Page
      title="Data"
      description="Datasets in this project: raw documents as imported, then cleaned, deduplicated and scored."
    >
      {error && <Notice tone="error">{error.message}</Notice>}
      {count.error && <Notice tone="error">{count.error.message}</Notice>}
      {datasets && datasets.length === 0 && (
        <EmptyState icon={<Database size={22} />} title="No datasets yet">
          A dataset is a collection of documents imported from text, JSONL, CSV, Parquet or HTML
          files. Every later step (cleaning, review, tokenizer, training) starts from one.
        </EmptyState>
      )}
      {datasets && datasets.length > 0 && (
        <Panel title="Datasets" description={`${datasets.length} in this project`}>
          <table className="table">
            <thead>
              <tr>
                <th>Name</th>
                <th className="num">Documents</th>
                <th className="num">Characters</th>
                <th>Created</th>
                <th>
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {datasets.map((d) => {
                const c = counts[d.id]
                return (
                  <tr key={d.id}>
                    <td>{d.name}</td>
                    <td className="num">
                      {formatCount(typeof c === 'object' ? c.documents : d.documentCount)}
                    </td>
                    <td className="num">
                      {typeof c === 'object'
                        ? formatCount(c.characters)
                        : typeof c === 'string'
                          ? c
                          : '—'}
                    </td>
                    <td>{formatDateTime(d.createdAt)}</td>
                    <td className="num">
                      <Button
                        size="small"
                        icon={<Hash size={13} />}
                        aria-label={`Count documents in ${d.name}`}
                        onClick={() =>
                          count.mutate({ kind: 'dataset.count', params: { datasetId: d.id } })
                        }
                      >
                        Count
                      </Button>
                    </td>
                  </tr>
                )
              })}
            </tbody>
          </table>
        </Panel>
      )}
    </Page>
  )
}
