import { BarChart3 } from 'lucide-react'
import { useState } from 'react'
import { Link } from 'wouter'
import { useApiQuery } from '../../api/client'
import { EmptyState } from '../../components/EmptyState'
import { Page } from '../../components/Page'
import { Tabs } from '../../components/Tabs'
import { ComparePanel } from './ComparePanel'
import { InspectPanel } from './InspectPanel'
import { PlaygroundPanel } from './PlaygroundPanel'
import { RatingsPanel } from './RatingsPanel'
import './evaluate.css'

type Tab = 'playground' | 'compare' | 'inspect' | 'ratings'
const tabs: { id: Tab; label: string }[] = [
  { id: 'playground', label: 'Playground' },
  { id: 'compare', label: 'A/B comparison' },
  { id: 'inspect', label: 'Attention & routing' },
  { id: 'ratings', label: 'Ratings' },
]

export function EvaluateScreen() {
  const { data: runs } = useApiQuery('runs.list', {})
  const hasCheckpoints = runs?.some((r) => r.checkpointCount > 0) ?? false
  const [tab, setTab] = useState<Tab>('playground')
  return (
    <Page
      title="Evaluate"
      description="What a model does: generate from it, compare two checkpoints, look inside, and keep your ratings and preferences."
    >
      {runs && !hasCheckpoints && (
        <EmptyState
          icon={<BarChart3 size={22} />}
          title="No checkpoints yet"
          actions={
            <Link href="/train" className="btn btn-primary">
              Go to Train
            </Link>
          }
        >
          Train a run to have checkpoints to generate from and compare. Meanwhile, rate outputs and
          record preferences under Ratings: they are stored in the project for evaluation and
          preference training.
        </EmptyState>
      )}
      <Tabs label="Evaluation views" tabs={tabs} value={tab} onChange={setTab}>
        {tab === 'playground' && <PlaygroundPanel />}
        {tab === 'compare' && <ComparePanel />}
        {tab === 'inspect' && <InspectPanel />}
        {tab === 'ratings' && <RatingsPanel />}
      </Tabs>
    </Page>
  )
}
