import type { DecidedBy, DocumentStatus } from '../../../../shared/data/types'

const tone: Record<DocumentStatus, string> = {
  pending: 'default',
  kept: 'success',
  removed: 'danger',
  review: 'warning',
}

/** A document's status, with who decided it when it was a person. */
export function StatusBadge({
  status,
  decidedBy,
}: {
  status: DocumentStatus
  decidedBy: DecidedBy | null
}) {
  return (
    <span className="badge" data-tone={tone[status]}>
      {status === 'pending' ? 'not cleaned' : status}
      {decidedBy === 'reviewer' ? ' · you' : ''}
    </span>
  )
}
