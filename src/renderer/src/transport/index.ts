import type { FrugalBridge, Transport } from '../../../shared/transport'
import { httpTransport } from './http'
import { ipcTransport } from './ipc'

declare global {
  interface Window {
    /** Present only inside the desktop app (set by the preload script). */
    frugal?: FrugalBridge
  }
}

/** Chosen once at start-up; the rest of the renderer only sees a Transport. */
export function chooseTransport(onConnectionChange?: (connected: boolean) => void): Transport {
  return window.frugal ? ipcTransport(window.frugal) : httpTransport(onConnectionChange)
}
