import { FlaskConical } from 'lucide-react'
import { Link } from 'wouter'
import { EmptyState } from '../../components/EmptyState'
import { Page } from '../../components/Page'
import { usePipelineSteps } from '../prerequisites'

export function TrainScreen() {
  const steps = usePipelineSteps()
  const next = steps.find((s) => !s.done)
  return (
    <Page
      title="Train"
      description="Decoder-only models with sparse experts, reduced precision and exact-resume checkpoints."
    >
      <EmptyState
        icon={<FlaskConical size={22} />}
        title="No training runs yet"
        steps={steps}
        actions={
          <Link
            href={next?.label.includes('Tokenizer') ? '/tokenizer' : '/data'}
            className="btn btn-primary"
          >
            {next ? `Next: ${next.label.replace(/ \(.*\)$/, '')}` : 'Go to Data'}
          </Link>
        }
      >
        A run needs a cleaned dataset and a tokenizer. Its loss, throughput and expert load appear
        here live, and it can be paused, resumed and compared with other runs.
      </EmptyState>
    </Page>
  )
}
