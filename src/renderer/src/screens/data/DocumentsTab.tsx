import { ChevronLeft, ChevronRight, Search } from 'lucide-react'
import { useEffect, useId, useRef, useState, type KeyboardEvent } from 'react'
import { useApiQuery } from '../../api/client'
import { Button } from '../../components/Button'
import { Notice } from '../../components/Notice'
import { formatCount, formatCountOf } from '../../format'
import { deciderTitles } from '../../../../shared/data/catalog'
import { deciderIds, type DeciderId } from '../../../../shared/data/rules'
import {
  documentStatuses,
  type DocumentListItem,
  type DocumentStatus,
} from '../../../../shared/data/types'
import { StatusBadge } from './StatusBadge'
import { WhyPanel } from './WhyPanel'
import { structuredPreview } from '../../../../shared/structured-document'

export interface DocumentFilter {
  status?: DocumentStatus
  rule?: DeciderId
  language?: string
  cluster?: number
  search?: string
}

const PAGE = 50

interface DocumentsTabProps {
  datasetId: number
  filter: DocumentFilter
  onFilter: (filter: DocumentFilter) => void
}

/** The document browser: filters, a page of documents, and the "why" of the selected one. */
export function DocumentsTab({ datasetId, filter, onFilter }: DocumentsTabProps) {
  const [sort, setSort] = useState<'id' | 'score_asc' | 'score_desc'>('id')
  const [search, setSearch] = useState(filter.search ?? '')
  // Paging and selection belong to one filter: a new filter starts at its first page and
  // first document; a refresh of the same page keeps the selection, even if the selected
  // document no longer matches (it was just labelled, say).
  const filterKey = JSON.stringify([filter, sort])
  const [paging, setPaging] = useState({ key: filterKey, offset: 0 })
  const offset = paging.key === filterKey ? paging.offset : 0
  const setOffset = (next: number) => setPaging({ key: filterKey, offset: next })
  const pageKey = `${filterKey}:${offset}`
  const [picked, setPicked] = useState<{ page: string; id: number } | null>(null)
  const listRef = useRef<HTMLUListElement>(null)
  const ids = { status: useId(), rule: useId(), lang: useId(), sort: useId(), search: useId() }
  const { data: stats } = useApiQuery('data.stats', { datasetId })
  const {
    data: page,
    error,
    isFetching,
  } = useApiQuery(
    'data.documents',
    { datasetId, ...filter, sort, offset, limit: PAGE },
    { placeholderData: (previous) => previous },
  )
  const selected = picked?.page === pageKey ? picked.id : (page?.items[0]?.id ?? null)
  const setSelected = (id: number) => setPicked({ page: pageKey, id })

  // Typing searches after a short pause.
  useEffect(() => {
    const t = setTimeout(() => {
      if ((filter.search ?? '') !== search.trim())
        onFilter({
          ...filter,
          ...(search.trim() ? { search: search.trim() } : { search: undefined }),
        })
    }, 250)
    return () => clearTimeout(t)
  }, [search, filter, onFilter])

  const set = <K extends keyof DocumentFilter>(key: K, value: DocumentFilter[K] | '') => {
    const next = { ...filter }
    if (value === '' || value === undefined) delete next[key]
    else next[key] = value
    onFilter(next)
  }

  const onListKey = (e: KeyboardEvent) => {
    if (!page || (e.key !== 'ArrowDown' && e.key !== 'ArrowUp')) return
    e.preventDefault()
    const i = page.items.findIndex((d) => d.id === selected)
    const next =
      page.items[Math.max(0, Math.min(page.items.length - 1, i + (e.key === 'ArrowDown' ? 1 : -1)))]
    if (next) {
      setSelected(next.id)
      listRef.current?.querySelector<HTMLElement>(`[data-id="${next.id}"]`)?.focus()
    }
  }

  return (
    <div className="stack">
      <div className="filter-bar" role="search" aria-label="Filter documents">
        <div className="field search-field">
          <label htmlFor={ids.search}>Search</label>
          <div className="input-with-icon">
            <Search size={14} aria-hidden />
            <input
              id={ids.search}
              className="input"
              type="search"
              value={search}
              placeholder="Words in the original or cleaned text"
              onChange={(e) => setSearch(e.target.value)}
            />
          </div>
        </div>
        <div className="field">
          <label htmlFor={ids.status}>Status</label>
          <select
            id={ids.status}
            className="select"
            value={filter.status ?? ''}
            onChange={(e) => set('status', e.target.value as DocumentStatus)}
          >
            <option value="">All</option>
            {documentStatuses.map((s) => (
              <option key={s} value={s}>
                {s} {stats ? `(${formatCount(stats.counts[s])})` : ''}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={ids.rule}>Decided by</label>
          <select
            id={ids.rule}
            className="select"
            value={filter.rule ?? ''}
            onChange={(e) => set('rule', e.target.value as DeciderId)}
          >
            <option value="">Any rule</option>
            {deciderIds.map((r) => (
              <option key={r} value={r}>
                {deciderTitles[r]}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={ids.lang}>Language</label>
          <select
            id={ids.lang}
            className="select"
            value={filter.language ?? ''}
            onChange={(e) => set('language', e.target.value)}
          >
            <option value="">Any</option>
            {stats?.languages.map((l) => (
              <option key={l.language} value={l.language}>
                {l.language}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={ids.sort}>Order</label>
          <select
            id={ids.sort}
            className="select"
            value={sort}
            onChange={(e) => setSort(e.target.value as typeof sort)}
          >
            <option value="id">As imported</option>
            <option value="score_asc">Lowest score first</option>
            <option value="score_desc">Highest score first</option>
          </select>
        </div>
      </div>
      {filter.cluster !== undefined && (
        <Notice tone="info">
          Showing duplicate cluster #{filter.cluster}.{' '}
          <button type="button" className="link-button" onClick={() => set('cluster', '')}>
            Show all documents
          </button>
        </Notice>
      )}
      {error && <Notice tone="error">{error.message}</Notice>}
      <div className="browser">
        <section className="doc-list-panel" aria-label="Documents" aria-busy={isFetching}>
          <div className="doc-list-head small muted">
            {page ? formatCountOf(page.total, 'document') : 'Loading…'}
            {page && page.total > PAGE && (
              <span className="row" style={{ gap: 2 }}>
                <Button
                  size="small"
                  variant="ghost"
                  icon={<ChevronLeft size={13} />}
                  aria-label="Previous page"
                  disabled={offset === 0}
                  onClick={() => setOffset(Math.max(0, offset - PAGE))}
                />
                <span>
                  {formatCount(offset + 1)}–{formatCount(Math.min(page.total, offset + PAGE))}
                </span>
                <Button
                  size="small"
                  variant="ghost"
                  icon={<ChevronRight size={13} />}
                  aria-label="Next page"
                  disabled={offset + PAGE >= page.total}
                  onClick={() => setOffset(offset + PAGE)}
                />
              </span>
            )}
          </div>
          {page && page.items.length === 0 && (
            <p className="muted small" style={{ padding: 12 }}>
              No documents match.
            </p>
          )}
          <ul
            className="doc-list"
            ref={listRef}
            onKeyDown={onListKey}
            role="listbox"
            aria-label="Documents"
            aria-activedescendant={selected ? `doc-${selected}` : undefined}
          >
            {page?.items.map((d) => (
              <DocumentRow
                key={d.id}
                doc={d}
                selected={d.id === selected}
                onSelect={() => setSelected(d.id)}
              />
            ))}
          </ul>
        </section>
        <section className="why-panel" aria-label="Why">
          {selected !== null ? (
            <WhyPanel id={selected} onShowCluster={(cluster) => onFilter({ cluster })} />
          ) : (
            <p className="muted small">
              Select a document to see what each rule measured and decided.
            </p>
          )}
        </section>
      </div>
    </div>
  )
}

function DocumentRow({
  doc,
  selected,
  onSelect,
}: {
  doc: DocumentListItem
  selected: boolean
  onSelect: () => void
}) {
  return (
    <li
      id={`doc-${doc.id}`}
      data-id={doc.id}
      role="option"
      aria-selected={selected}
      tabIndex={selected ? 0 : -1}
      className="doc-row"
      onClick={onSelect}
      onFocus={onSelect}
    >
      <div className="row" style={{ justifyContent: 'space-between', flexWrap: 'nowrap' }}>
        <span className="small muted mono">#{doc.id}</span>
        <span className="row" style={{ gap: 4, flexWrap: 'nowrap' }}>
          {doc.qualityScore !== null && (
            <span className="small muted">{doc.qualityScore.toFixed(2)}</span>
          )}
          {doc.language && <span className="badge">{doc.language}</span>}
          <StatusBadge status={doc.status} decidedBy={doc.decidedBy} />
        </span>
      </div>
      <p className="doc-preview">{structuredPreview(doc.preview) ?? doc.preview}</p>
      {doc.decisionRule && (
        <span className="small muted">
          {deciderTitles[doc.decisionRule]}
          {doc.modified ? ' · modified' : ''}
        </span>
      )}
    </li>
  )
}
