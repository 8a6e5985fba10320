/** Domain types shared by every process. Shapes of what the API returns. */
import type { ReviewKeys } from './review-keys'

export interface ProjectInfo {
  /** Absolute path of the .frugal file. */
  path: string
  /** File name without extension: what the title bar and status bar show. */
  name: string
  sizeBytes: number
  schemaVersion: number
  createdAt: string
  counts: { datasets: number; documents: number; jobs: number }
}

export interface RecentProject {
  path: string
  name: string
  openedAt: string
  /** False when the file has been moved or deleted since. */
  exists: boolean
}

export interface BackupResult {
  path: string
  bytes: number
  wallMs: number
}

export type ThemePreference = 'system' | 'light' | 'dark'

export interface AppSettings {
  theme: ThemePreference
  /** Review commands whose keys the user changed (the rest keep their defaults). */
  reviewKeys: Partial<ReviewKeys>
}

export type BackendName = 'tensorflow-gpu' | 'webgpu' | 'tensorflow' | 'wasm' | 'cpu'

/** A WebGPU adapter, as the webgpu backend found it. */
export interface GpuInfo {
  vendor: string
  architecture: string
  device: string
  description: string
  /** A CPU posing as a GPU (llvmpipe, SwiftShader): used only when asked for. */
  software: boolean
  /** The features that matter to training: 'shader-f16', 'timestamp-query'. */
  features: string[]
  /** Bytes: the largest buffer, and the largest one a shader may bind. */
  limits: { maxBufferSize: number; maxStorageBufferBindingSize: number }
}

export interface SkippedBackend {
  name: BackendName
  package: string
  reason: string
}

export interface BackendInfo {
  /** The tfjs backend in use. */
  name: BackendName
  /** The npm package that provides it, and its version. */
  package: string
  version: string
  /** Human-readable detail, e.g. "1 thread, SIMD" or the GPU name. */
  detail: string
  /** Backends tried first and why each was not used. */
  skipped: SkippedBackend[]
  /** The GPU, on the webgpu backend. */
  gpu?: GpuInfo
  /** Set when the environment variable FRUGAL_BACKEND named this backend: nothing else was tried. */
  forced?: boolean
}

export type BackendState =
  | { status: 'probing' }
  | { status: 'ready'; info: BackendInfo }
  | { status: 'failed'; message: string }

export interface SystemInfo {
  appVersion: string
  /** 'desktop' inside Electron, 'serve' for the headless server. Shown in About. */
  mode: 'desktop' | 'serve'
  /** Whether native open/save dialogs exist (Electron only); otherwise the UI asks for a path. */
  nativeDialogs: boolean
  platform: string
  versions: Record<string, string>
  userDataDir: string
  defaultProjectPath: string
}

/** A dataset: its name, when it was made, its documents. */
export interface DatasetSummary {
  id: number
  name: string
  createdAt: string
  documents: number
}
