import { QueryClient, QueryClientProvider } from '@tanstack/react-query'
import { StrictMode, useSyncExternalStore } from 'react'
import { createRoot } from 'react-dom/client'
import { TransportProvider } from './api/client'
import { AccessTokenNeeded } from './app/AccessTokenNeeded'
import { App } from './app/App'
import { chooseTransport } from './transport'
import './styles/tokens.css'
import './styles/base.css'
import './styles/layout.css'
import './styles/components.css'

const queryClient = new QueryClient({
  defaultOptions: {
    // Data changes arrive as events, which invalidate queries; no polling, no refetch storms.
    queries: { staleTime: Infinity, retry: false, refetchOnWindowFocus: false },
  },
})

// Connection state of the event channel (always true over IPC).
let connected = true
const connectionListeners = new Set<() => void>()
const transport = chooseTransport((value) => {
  // Events may have been missed before the event channel was (re)established: refetch
  // everything once it is. Over IPC this never fires; nothing is missed there.
  if (value) void queryClient.invalidateQueries()
  connected = value
  for (const l of connectionListeners) l()
})

function Root() {
  const isConnected = useSyncExternalStore(
    (l) => (connectionListeners.add(l), () => connectionListeners.delete(l)),
    () => connected,
  )
  return <App connected={isConnected} />
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    {transport ? (
      <TransportProvider transport={transport}>
        <QueryClientProvider client={queryClient}>
          <Root />
        </QueryClientProvider>
      </TransportProvider>
    ) : (
      <AccessTokenNeeded />
    )}
  </StrictMode>,
)
