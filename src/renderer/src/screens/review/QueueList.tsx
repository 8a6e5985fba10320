import { useVirtualizer } from '@tanstack/react-virtual'
import { useRef } from 'react'
import { useApiQuery } from '../../api/client'
import { formatCount } from '../../format'
import type { Queue, QueueMember } from '../../../../shared/review'

const PAGE = 100
const ROW_HEIGHT = 52

/**
 * The queue as a list, virtualized: only the rows on screen exist, and pages of 100 are
 * fetched as they scroll into view, so a queue of a million documents scrolls as one of ten.
 */
export function QueueList({
  queue,
  total,
  currentId,
  onOpen,
}: {
  queue: Queue
  total: number
  currentId: number | null
  onOpen: (id: number) => void
}) {
  const scroller = useRef<HTMLDivElement>(null)
  // The virtualizer re-renders rather than memoizes, which is what this list wants.
  // eslint-disable-next-line react-hooks/incompatible-library
  const virtualizer = useVirtualizer({
    count: total,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 10,
  })
  const items = virtualizer.getVirtualItems()
  const firstPage = items.length ? Math.floor(items[0].index / PAGE) : 0
  const lastPage = items.length ? Math.floor(items[items.length - 1].index / PAGE) : 0
  return (
    <nav className="queue-list" aria-label={`Queue: ${formatCount(total)} documents`}>
      <div ref={scroller} className="queue-scroll">
        <div style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
          {Array.from({ length: lastPage - firstPage + 1 }, (_, i) => (
            <QueuePage
              key={firstPage + i}
              queue={queue}
              page={firstPage + i}
              rows={items.filter((it) => Math.floor(it.index / PAGE) === firstPage + i)}
              currentId={currentId}
              onOpen={onOpen}
            />
          ))}
        </div>
      </div>
    </nav>
  )
}

function QueuePage({
  queue,
  page,
  rows,
  currentId,
  onOpen,
}: {
  queue: Queue
  page: number
  rows: { index: number; start: number; key: React.Key }[]
  currentId: number | null
  onOpen: (id: number) => void
}) {
  const { data } = useApiQuery('review.members', { queue, offset: page * PAGE, limit: PAGE })
  return (
    <>
      {rows.map((row) => {
        const m: QueueMember | undefined = data?.[row.index - page * PAGE]
        return (
          <div
            key={row.key}
            className="queue-row-slot"
            style={{ transform: `translateY(${row.start}px)`, height: ROW_HEIGHT }}
          >
            {m ? (
              <button
                type="button"
                className="queue-row"
                aria-current={m.id === currentId ? 'true' : undefined}
                data-decision={m.decision ?? undefined}
                data-status={m.status}
                onClick={() => onOpen(m.id)}
              >
                <span className="queue-row-head">
                  <span className="mono">#{m.id}</span>
                  <span className="queue-row-state">
                    {m.decision ? (m.decision === 'keep' ? 'kept' : 'removed') : m.status}
                    {m.qualityScore !== null && ` · ${m.qualityScore.toFixed(2)}`}
                  </span>
                </span>
                <span className="queue-row-preview">{m.preview}</span>
              </button>
            ) : (
              <span className="queue-row placeholder" aria-hidden />
            )}
          </div>
        )
      })}
    </>
  )
}
