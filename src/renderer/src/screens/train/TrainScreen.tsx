import './train.css'
import { Route, Switch } from 'wouter'
import { ComparePage } from './ComparePage'
import { NewRunPage } from './NewRunPage'
import { RunPage } from './RunPage'
import { ReportPage } from './ReportPage'
import { RunsPage } from './RunsPage'

/** The Train screen and its pages: runs, a new run, one run, a comparison, the cost report. */
export function TrainScreen() {
  return (
    <Switch>
      <Route path="/new" component={NewRunPage} />
      <Route path="/run/:id">{(params) => <RunPage id={params.id} />}</Route>
      <Route path="/compare" component={ComparePage} />
      <Route path="/report" component={ReportPage} />
      <Route component={RunsPage} />
    </Switch>
  )
}
