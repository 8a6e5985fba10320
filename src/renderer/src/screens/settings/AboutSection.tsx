import { useApiQuery } from '../../api/client'
import { Panel } from '../../components/Page'

export function AboutSection() {
  const { data: info } = useApiQuery('system.info', {})
  if (!info) return null
  return (
    <Panel id="about" title="About">
      <dl className="facts" aria-label="About Frugal">
        <dt>Version</dt>
        <dd>Frugal {info.appVersion}</dd>
        <dt>Running as</dt>
        <dd>{info.mode === 'desktop' ? 'Desktop app' : 'Headless server (frugal serve)'}</dd>
        <dt>Platform</dt>
        <dd>{info.platform}</dd>
        {Object.entries(info.versions).map(([k, v]) => (
          <div key={k} style={{ display: 'contents' }}>
            <dt>{k}</dt>
            <dd className="mono">{v}</dd>
          </div>
        ))}
        <dt>Settings folder</dt>
        <dd className="mono">{info.userDataDir}</dd>
        <dt>Default project</dt>
        <dd className="mono">{info.defaultProjectPath}</dd>
      </dl>
    </Panel>
  )
}
