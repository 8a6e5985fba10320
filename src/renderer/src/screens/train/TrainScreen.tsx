import './train.css'
import { Route, Switch } from 'wouter'
import { ComparePage } from './ComparePage'
import { NewRunPage } from './NewRunPage'
import { RunPage } from './RunPage'
import { RunsPage } from './RunsPage'

/** The Train screen and its pages: runs, a new run, one run, a comparison. */
export function TrainScreen() {
  return (
    <Switch>
      <Route path="/new" component={NewRunPage} />
      <Route path="/run/:id">{(params) => <RunPage id={params.id} />}</Route>
      <Route path="/compare" component={ComparePage} />
      <Route component={RunsPage} />
    </Switch>
  )
}
