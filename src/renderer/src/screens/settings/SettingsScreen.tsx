import { Page } from '../../components/Page'
import { AboutSection } from './AboutSection'
import { AppearanceSection } from './AppearanceSection'
import { BackendSection } from './BackendSection'
import { ProjectSection } from './ProjectSection'

export function SettingsScreen() {
  return (
    <Page
      title="Settings"
      description="The project file, the compute backend and how Frugal looks."
    >
      <ProjectSection />
      <BackendSection />
      <AppearanceSection />
      <AboutSection />
    </Page>
  )
}
