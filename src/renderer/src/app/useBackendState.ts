import { useApiQuery } from '../api/client'

/** While a probe runs, ask again this often: its end is announced by an event, but the
 *  status bar must not depend on the event channel being up to leave "Detecting…". */
const PROBING_POLL_MS = 2000

/** Which compute backend the workers get (probing, ready or failed). */
export function useBackendState() {
  return useApiQuery(
    'system.backend',
    {},
    {
      refetchInterval: (query) =>
        query.state.data?.status === 'probing' ? PROBING_POLL_MS : false,
    },
  )
}
