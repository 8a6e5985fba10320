import type { FromWorker } from '../shared/worker-protocol'

export interface ParentPort {
  send(message: FromWorker): void
  onMessage(listener: (message: unknown) => void): void
}

interface ElectronParentPort {
  postMessage(message: unknown): void
  on(event: 'message', listener: (event: { data: unknown }) => void): void
}

/**
 * The channel to the supervisor: `process.parentPort` in an Electron utility process,
 * the IPC channel of `child_process.fork` otherwise.
 */
export function connectToParent(): ParentPort {
  const electronPort = (process as unknown as { parentPort?: ElectronParentPort }).parentPort
  if (electronPort) {
    return {
      send: (m) => electronPort.postMessage(m),
      onMessage: (l) => electronPort.on('message', (e) => l(e.data)),
    }
  }
  const send = process.send?.bind(process)
  if (!send)
    throw new Error('The Frugal worker must be started by Frugal (it has no parent process).')
  return {
    send: (m) => void send(m),
    onMessage: (l) => process.on('message', l),
  }
}
