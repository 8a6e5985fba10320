import { Boxes } from 'lucide-react'
import { Link } from 'wouter'
import { EmptyState } from '../../components/EmptyState'
import { Page } from '../../components/Page'

export function ModelsScreen() {
  return (
    <Page
      title="Models"
      description="Checkpoints of your runs: inspect, compare and export them for other tools."
    >
      <EmptyState
        icon={<Boxes size={22} />}
        title="No models yet"
        actions={
          <Link href="/train" className="btn btn-primary">
            Go to Train
          </Link>
        }
      >
        Every checkpoint a training run saves appears here, ready to export as safetensors with a
        Hugging Face config.json and tokenizer.json, in full precision or int8.
      </EmptyState>
    </Page>
  )
}
