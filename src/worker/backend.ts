import * as tf from '@tensorflow/tfjs-core'
// tfjs-core's CommonJS build ships no gradients (only its ESM tree has them, which Node
// cannot load); the @tensorflow/tfjs bundle registers all of them into the shared core.
import '@tensorflow/tfjs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import type { BackendInfo, BackendName, GpuInfo, SkippedBackend } from '../shared/types'
import { watchWasmFailures } from './backend-failure'
import { activateWebGpu, adapterName } from './webgpu/device'

export type Tfjs = typeof tf

export interface LoadedBackend {
  tf: Tfjs
  info: BackendInfo
}

interface Candidate {
  name: BackendName
  package: string
  /**
   * Load the package and activate its backend; throws with the reason when it cannot.
   * `forced`: the user named this backend (FRUGAL_BACKEND), so use it even where it
   * would not be picked on its own.
   */
  load: (forced: boolean) => Promise<{ version: string; detail: string; gpu?: GpuInfo }>
}

/** What libtensorflow 2.9.1, inside tfjs-node-gpu 4.22, needs to see a GPU. */
const TF_GPU_NEEDS =
  'libtensorflow 2.9.1 needs CUDA 11.2 and cuDNN 8.1 installed system-wide and an NVIDIA GPU; the webgpu backend needs neither'

const requireHere = createRequire(import.meta.url)
const resolveModule = requireHere.resolve

function packageVersion(name: string): string {
  return (requireHere(`${name}/package.json`) as { version: string }).version
}

/**
 * The tfjs backends in order of preference. The two native ones are optional
 * dependencies (their install downloads libtensorflow, which fails offline), so each
 * is loaded by dynamic import and skipped, with the reason kept, when absent or broken.
 * CUDA through libtensorflow is tried first but used only when it really found a GPU;
 * then WebGPU on a hardware adapter (any vendor, through Dawn); then the CPU ones.
 */
const candidates: Candidate[] = [
  {
    name: 'tensorflow-gpu',
    package: '@tensorflow/tfjs-node-gpu',
    load: async () => {
      const mod = (await import('@tensorflow/tfjs-node-gpu')) as { version: Record<string, string> }
      await activate('tensorflow')
      // libtensorflow falls back to the CPU, silently, when it cannot load CUDA: ask it.
      const binding = (tf.backend() as { binding?: { isUsingGpuDevice?: () => boolean } }).binding
      if (!binding?.isUsingGpuDevice?.()) {
        tf.removeBackend('tensorflow')
        throw new Error(`installed, but libtensorflow found no CUDA device (${TF_GPU_NEEDS})`)
      }
      return {
        version: mod.version['tfjs-node-gpu'] ?? mod.version['tfjs-core'] ?? '?',
        detail: 'CUDA (libtensorflow)',
      }
    },
  },
  {
    name: 'webgpu',
    package: '@tensorflow/tfjs-backend-webgpu',
    load: async (forced) => {
      const { info } = await activateWebGpu(forced)
      const name = adapterName(info)
      const software = info.software && !/software/i.test(name) ? ' (software)' : ''
      const f16 = info.features.includes('shader-f16') ? ', shader-f16' : ''
      return {
        // The package exports no version constant; read its package.json.
        version: packageVersion('@tensorflow/tfjs-backend-webgpu'),
        detail: `${name}${software}${f16}`,
        gpu: info,
      }
    },
  },
  {
    name: 'tensorflow',
    package: '@tensorflow/tfjs-node',
    load: async () => {
      const mod = (await import('@tensorflow/tfjs-node')) as { version: Record<string, string> }
      await activate('tensorflow')
      return {
        version: mod.version['tfjs-node'] ?? mod.version['tfjs-core'] ?? '?',
        detail: 'native CPU (libtensorflow)',
      }
    },
  },
  {
    name: 'wasm',
    package: '@tensorflow/tfjs-backend-wasm',
    load: activateWasm,
  },
  {
    name: 'cpu',
    package: '@tensorflow/tfjs-backend-cpu',
    load: async () => {
      const cpu = await import('@tensorflow/tfjs-backend-cpu')
      await activate('cpu')
      return { version: cpu.version_cpu, detail: 'plain JavaScript (slow)' }
    },
  },
]

/** Make tfjs-backend-wasm the active backend (also for tests that compare it with another). */
export async function activateWasm(): Promise<{ version: string; detail: string }> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm')
  // Under Node the .wasm binaries are read from the package's own dist folder.
  const dist = join(dirname(resolveModule('@tensorflow/tfjs-backend-wasm/package.json')), 'dist')
  wasm.setWasmPaths(`${dist}/`)
  watchWasmFailures()
  await activate('wasm')
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')
  const threads = wasm.getThreadsCount()
  return {
    version: wasm.version_wasm,
    detail: `${threads} thread${threads === 1 ? '' : 's'}${simd ? ', SIMD' : ''}`,
  }
}

async function activate(name: string): Promise<void> {
  const ok = await tf.setBackend(name)
  if (!ok) throw new Error(`tfjs could not initialize the "${name}" backend`)
  await tf.ready()
}

/** Shorten loader errors to their first line: "Cannot find package ..." is enough. */
function reasonOf(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err)
  if (/Cannot find (package|module)/.test(text)) return 'not installed'
  if (/native addon module .* can not be found/.test(text)) {
    return 'installed without its native library (its download of libtensorflow failed); reinstall it with network access'
  }
  if (/libcudart|libcudnn|libcublas|CUDA/i.test(text) && !/webgpu/.test(text)) {
    return `${text.split('\n')[0].slice(0, 200)} (${TF_GPU_NEEDS})`
  }
  return text.split('\n')[0].slice(0, 300)
}

let loaded: Promise<LoadedBackend> | null = null

/**
 * Pick the best backend that works here. `FRUGAL_BACKEND` (tensorflow-gpu, webgpu,
 * tensorflow, wasm or cpu) forces one, for benchmarks and tests.
 */
export function loadBackend(
  forced: string | undefined = process.env.FRUGAL_BACKEND,
): Promise<LoadedBackend> {
  loaded ??= (async () => {
    const skipped: SkippedBackend[] = []
    for (const candidate of candidates) {
      if (forced && forced !== candidate.name) {
        skipped.push({
          name: candidate.name,
          package: candidate.package,
          reason: `not requested (FRUGAL_BACKEND=${forced})`,
        })
        continue
      }
      try {
        const { version, detail, gpu } = await candidate.load(forced === candidate.name)
        return {
          tf,
          info: {
            name: candidate.name,
            package: candidate.package,
            version,
            detail,
            skipped,
            ...(gpu ? { gpu } : {}),
            ...(forced ? { forced: true } : {}),
          },
        }
      } catch (err) {
        skipped.push({ name: candidate.name, package: candidate.package, reason: reasonOf(err) })
      }
    }
    const why = skipped.map((s) => `${s.name}: ${s.reason}`).join('; ')
    throw new Error(`No TensorFlow.js backend could be loaded (${why}).`)
  })()
  return loaded
}
