import { BarChart3 } from 'lucide-react'
import { Link } from 'wouter'
import { EmptyState } from '../../components/EmptyState'
import { Page } from '../../components/Page'

export function EvaluateScreen() {
  return (
    <Page
      title="Evaluate"
      description="Perplexity, multiple-choice benchmarks, a generation playground and A/B comparison."
    >
      <EmptyState
        icon={<BarChart3 size={22} />}
        title="Nothing to evaluate yet"
        actions={
          <Link href="/train" className="btn btn-primary">
            Go to Train
          </Link>
        }
      >
        Evaluation works on checkpoints. Once a training run has saved one, measure its perplexity,
        score it on MMLU-format files, and try prompts side by side with another checkpoint.
      </EmptyState>
    </Page>
  )
}
