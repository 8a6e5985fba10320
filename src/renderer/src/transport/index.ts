import type { FrugalBridge, Transport } from '../../../shared/transport'
import { httpTransport } from './http'
import { ipcTransport } from './ipc'

/**
 * The renderer's transport: the API contract, plus turning a file the user dropped or
 * picked into a path the backend can read. The desktop app asks Electron for the
 * file's real path (no copy); a browser on `frugal serve` uploads it to the server.
 */
export interface AppTransport extends Transport {
  fileToPath(
    file: File,
    onProgress?: (sentBytes: number, totalBytes: number) => void,
    signal?: AbortSignal,
  ): Promise<string>
}

declare global {
  interface Window {
    /** Present only inside the desktop app (set by the preload script). */
    frugal?: FrugalBridge
  }
}

/** Chosen once at start-up; the rest of the renderer only sees a Transport. */
export function chooseTransport(onConnectionChange?: (connected: boolean) => void): AppTransport {
  return window.frugal ? ipcTransport(window.frugal) : httpTransport(onConnectionChange)
}
