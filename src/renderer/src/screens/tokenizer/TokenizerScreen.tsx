import { Type } from 'lucide-react'
import { Link } from 'wouter'
import { EmptyState } from '../../components/EmptyState'
import { Page } from '../../components/Page'
import { usePipelineSteps } from '../prerequisites'

export function TokenizerScreen() {
  const steps = usePipelineSteps().slice(0, 3)
  return (
    <Page
      title="Tokenizer"
      description="Byte-level BPE vocabularies trained on your cleaned data, stored in the project."
    >
      <EmptyState
        icon={<Type size={22} />}
        title="No tokenizer yet"
        steps={steps}
        actions={
          <Link href="/data" className="btn btn-primary">
            Go to Data
          </Link>
        }
      >
        A tokenizer turns text into the integers a model reads. Train one on a cleaned dataset; it
        is saved in this project and exported as a Hugging Face tokenizer.json with your models.
      </EmptyState>
    </Page>
  )
}
