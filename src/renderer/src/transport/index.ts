import type { FrugalBridge, Transport } from '../../../shared/transport'
import { accessToken, httpTransport } from './http'
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

/**
 * Chosen once at start-up; the rest of the renderer only sees a Transport. Null in a
 * browser opened without the access token: there is nothing it may call.
 */
export function chooseTransport(
  onConnectionChange?: (connected: boolean) => void,
): AppTransport | null {
  if (window.frugal) return ipcTransport(window.frugal)
  const token = accessToken()
  return token ? httpTransport(token, onConnectionChange) : null
}
