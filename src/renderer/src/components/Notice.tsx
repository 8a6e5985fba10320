import { AlertCircle, CheckCircle2, Info } from 'lucide-react'
import type { ReactNode } from 'react'

interface NoticeProps {
  tone: 'error' | 'success' | 'info'
  children: ReactNode
}

/** An inline message; errors are announced to screen readers. */
export function Notice({ tone, children }: NoticeProps) {
  const Icon = tone === 'error' ? AlertCircle : tone === 'success' ? CheckCircle2 : Info
  return (
    <div className="notice" data-tone={tone} role={tone === 'error' ? 'alert' : 'status'}>
      <Icon size={16} aria-hidden style={{ flex: 'none', marginTop: 2 }} />
      <div>{children}</div>
    </div>
  )
}
