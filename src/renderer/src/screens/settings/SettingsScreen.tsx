import { Page } from '../../components/Page'
import { AboutSection } from './AboutSection'
import { AppearanceSection } from './AppearanceSection'
import { BackendSection } from './BackendSection'
import { ProjectSection } from './ProjectSection'
import { ReviewKeysSection } from './ReviewKeysSection'

export function SettingsScreen() {
  return (
    <Page
      title="Settings"
      description="The project file, the compute backend, how Frugal looks and its review keys."
    >
      <ProjectSection />
      <BackendSection />
      <AppearanceSection />
      <ReviewKeysSection />
      <AboutSection />
    </Page>
  )
}
