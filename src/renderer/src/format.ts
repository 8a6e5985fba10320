/** Display formatting shared by every screen. */
import { countOf } from '../../shared/plural'
export { formatBytes } from '../../shared/format'

const integer = new Intl.NumberFormat()

export function formatCount(n: number): string {
  return integer.format(n)
}

/** "1 document", "2,048 documents": a count with its noun in the right number. */
export function formatCountOf(n: number, singular: string, plural = `${singular}s`): string {
  return countOf(n, singular, plural, formatCount)
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`
  const s = ms / 1000
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)} s`
  const m = Math.floor(s / 60)
  if (m < 60) return `${m} min ${Math.round(s % 60)} s`
  return `${Math.floor(m / 60)} h ${m % 60} min`
}

export function formatDateTime(iso: string): string {
  if (!iso) return '—'
  const d = new Date(iso)
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString()
}

/** "3 min ago"-style times for lists. */
export function formatRelative(iso: string, now = Date.now()): string {
  const t = new Date(iso).getTime()
  if (Number.isNaN(t)) return iso
  const s = Math.round((now - t) / 1000)
  if (s < 45) return 'just now'
  if (s < 3600) return `${Math.round(s / 60)} min ago`
  if (s < 86400) return `${Math.round(s / 3600)} h ago`
  return new Date(iso).toLocaleDateString()
}
