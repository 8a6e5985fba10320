import { ListChecks } from 'lucide-react'
import { Link } from 'wouter'
import { EmptyState } from '../../components/EmptyState'
import { Page } from '../../components/Page'
import { usePipelineSteps } from '../prerequisites'

export function ReviewScreen() {
  const steps = usePipelineSteps().slice(0, 2)
  return (
    <Page
      title="Review"
      description="The human tier of cleaning: decide what the rules and the quality model could not."
    >
      <EmptyState
        icon={<ListChecks size={22} />}
        title="Nothing to review yet"
        steps={steps}
        actions={
          <Link href="/data" className="btn btn-primary">
            Go to Data
          </Link>
        }
      >
        Documents the cleaning rules and the quality model cannot decide wait here for you, with
        random audits of what was kept and removed. Import and clean a dataset first.
      </EmptyState>
    </Page>
  )
}
