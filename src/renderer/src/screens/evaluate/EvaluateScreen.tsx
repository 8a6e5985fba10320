import { BarChart3 } from 'lucide-react'
import { Link } from 'wouter'
import { useApiQuery } from '../../api/client'
import { EmptyState } from '../../components/EmptyState'
import { Page } from '../../components/Page'
import { RatingsPanel } from './RatingsPanel'
import './evaluate.css'

export function EvaluateScreen() {
  const { data: runs } = useApiQuery('runs.list', {})
  return (
    <Page
      title="Evaluate"
      description="How good a model is: your ratings and preferences of its outputs, stored for evaluation and preference training."
    >
      {runs && runs.length === 0 && (
        <EmptyState
          icon={<BarChart3 size={22} />}
          title="No checkpoints yet"
          actions={
            <Link href="/train" className="btn btn-primary">
              Go to Train
            </Link>
          }
        >
          Train a run to have checkpoints. Meanwhile, rate outputs and record preferences below:
          they are stored in the project for evaluation and preference training.
        </EmptyState>
      )}
      <RatingsPanel />
    </Page>
  )
}
