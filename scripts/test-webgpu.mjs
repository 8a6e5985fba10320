/**
 * `npm run test:webgpu`: the numerics suites again on the webgpu backend (gradients
 * against finite differences, the trainer, exact resume after kill -9, the decoders,
 * packed fine-tuning rows, the optimizer beside tensors that share memory).
 * With no GPU, Dawn runs on Mesa's software Vulkan driver (llvmpipe, Mesa 25 or later;
 * Debian 12: `mesa-vulkan-drivers` from bookworm-backports), which .ci/run installs.
 *
 * Without any WebGPU adapter the suites cannot run: on a developer's machine that is a
 * warning, in CI (CI=1) a failure, so CI never passes without having run them.
 */
import { spawnSync } from 'node:child_process'

const suites = [
  'test/unit/model/gradients.test.ts',
  'test/unit/model/backward-memory.test.ts',
  'test/unit/train/backprop.test.ts',
  'test/unit/train/trainer.test.ts',
  'test/unit/train/resume.test.ts',
  'test/unit/infer/decoder.test.ts',
  'test/unit/infer/batch-decoder.test.ts',
  'test/unit/worker/webgpu.test.ts',
  'test/unit/sft/sft.test.ts',
  'test/unit/train/lora.test.ts',
  'test/unit/train/lora-int8.test.ts',
  'test/unit/train/optimizer.test.ts',
  'test/unit/kernels/fused.test.ts',
  'test/unit/kernels/webgpu-matmul.test.ts',
  'test/unit/kernels/webgpu-ops.test.ts',
]

const env = {
  ...process.env,
  FRUGAL_TEST_BACKEND: 'webgpu',
  // The CLI that resume.test.ts starts picks its backend from this.
  FRUGAL_BACKEND: 'webgpu',
  // Dawn's Vulkan loader warns without it.
  XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp',
}

async function adapter() {
  try {
    const { create, globals } = await import('webgpu')
    Object.assign(globalThis, globals)
    const a = await create([]).requestAdapter()
    return a ? `${a.info.vendor} ${a.info.description || a.info.device}`.trim() : null
  } catch (err) {
    console.error(String(err))
    return null
  }
}

const found = await adapter()
if (!found) {
  const message =
    'No WebGPU adapter here, so the webgpu suites did not run. On Linux without a GPU, install ' +
    "Mesa's software Vulkan driver, version 25 or later (Debian 12: apt-get install -t " +
    'bookworm-backports mesa-vulkan-drivers).'
  if (process.env.CI) {
    console.error(message)
    process.exit(1)
  }
  console.warn(`Warning: ${message}`)
  process.exit(0)
}
console.log(`webgpu suites on: ${found}`)
const r = spawnSync('npx', ['vitest', 'run', ...suites], { stdio: 'inherit', env })
process.exit(r.status ?? 1)
