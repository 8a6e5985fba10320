import * as tfc from '@tensorflow/tfjs-core'

/**
 * What Frugal's own webgpu kernels use of tfjs-backend-webgpu: a program is WGSL for its
 * `main` plus a description tfjs turns into bindings. Inputs are bound read-only under
 * their `variableNames`, the output as `result`; each input's shape is a uniform
 * (`xShape` for `X`), and `uniforms` declares more. `shaderKey` must name everything
 * baked into the code (tfjs caches pipelines by it).
 */
export interface WebGpuProgram {
  outputShape: number[]
  shaderKey: string
  dispatchLayout: { x: number[] }
  dispatch: [number, number, number]
  workgroupSize: [number, number, number]
  variableNames: string[]
  uniforms?: string
  size?: boolean
  /** Elements per output item (4: the output is bound as vec4s, `uniforms.size` counts them). */
  outputComponent?: number
  /** The same per input. */
  variableComponents?: number[]
  getUserCode(): string
}

export type Uniform = { type: 'float32' | 'int32'; data: number[] }

/** What Frugal's kernels use of tfjs-backend-webgpu's backend (one definition for all). */
export interface WebGpuBackendLike {
  /** With `output`, the program writes into that tensor instead of a new one. */
  runWebGPUProgram(
    program: WebGpuProgram,
    inputs: tfc.TensorInfo[],
    dtype: 'float32' | 'int32',
    uniforms?: Uniform[],
    output?: tfc.TensorInfo,
  ): tfc.TensorInfo
  disposeData(dataId: tfc.DataId): boolean
  refCount(dataId: tfc.DataId): number
  tensorMap: { get(dataId: tfc.DataId): { values: unknown } }
  device: {
    limits: {
      maxComputeWorkgroupsPerDimension: number
      maxComputeWorkgroupStorageSize: number
      maxStorageBuffersPerShaderStage: number
    }
  }
}

export const f32 = (x: number): Uniform => ({ type: 'float32', data: [x] })
export const i32 = (x: number): Uniform => ({ type: 'int32', data: [x] })

/** Threads of a per-row workgroup: enough for the row, at most 256 (a power of two). */
export function rowWorkgroup(width: number): number {
  return width >= 2048 ? 256 : width >= 512 ? 128 : 64
}

/**
 * One workgroup per unit of work (a row), `count` of them, laid out in two dimensions when
 * there are more than a dimension allows; the WGSL reads its unit from `unitIndex()`.
 */
export function workgroupGrid(count: number, maxPerDimension: number): [number, number, number] {
  const x = Math.min(count, maxPerDimension)
  return [x, Math.ceil(count / x), 1]
}

/** WGSL: the unit of a workgroupGrid workgroup. */
export const unitIndexSnippet = `
  fn unitIndex() -> i32 {
    return i32(workgroupId.y * numWorkgroups.x + workgroupId.x);
  }`

/**
 * WGSL: combines `value` over the workgroup's `size` threads (a power of two) through the
 * workgroup array `scratch` with `combine(a, b)` (an expression), returning the result to
 * every thread. Call from uniform control flow (it holds barriers); the caller declares
 * `var<workgroup> scratch : array<f32, size>`.
 */
export function workgroupReduceSnippet(
  name: string,
  scratch: string,
  size: number,
  combine: (a: string, b: string) => string,
): string {
  return `
  fn ${name}(value : f32) -> f32 {
    let lid = localId.x;
    ${scratch}[lid] = value;
    workgroupBarrier();
    for (var k = ${size / 2}u; k > 0u; k = k / 2u) {
      if (lid < k) {
        ${scratch}[lid] = ${combine(`${scratch}[lid]`, `${scratch}[lid + k]`)};
      }
      workgroupBarrier();
    }
    let total = ${scratch}[0];
    workgroupBarrier();
    return total;
  }`
}

/** WGSL: workgroupReduceSnippet's sum. */
export const workgroupSumSnippet = (name: string, scratch: string, size: number) =>
  workgroupReduceSnippet(name, scratch, size, (a, b) => `${a} + ${b}`)

/**
 * An elementwise program over equally shaped inputs, flattened: `expression` computes
 * `result[index]` from the inputs' values at `index` (named after the inputs, lowercase),
 * after the WGSL statements of `prelude`. Four elements a thread, as vec4s, where the size
 * allows (as tfjs's own elementwise kernels do); the WGSL must read the same either way.
 */
export function elementwise(
  key: string,
  names: string[],
  size: number,
  prelude: string,
  expression: string,
): WebGpuProgram {
  const workgroup = 64
  const component = size % 4 === 0 ? 4 : 1
  return {
    outputShape: [size],
    shaderKey: `${key}_${component}`,
    dispatchLayout: { x: [0] },
    dispatch: [Math.ceil(size / component / workgroup), 1, 1],
    workgroupSize: [workgroup, 1, 1],
    variableNames: names,
    outputComponent: component,
    variableComponents: names.map(() => component),
    size: true,
    getUserCode: () => `
      fn main(index : i32) {
        if (index < uniforms.size) {
          ${names.map((n) => `let ${n.toLowerCase()} = ${n}[index];`).join('\n          ')}
          ${prelude}
          result[index] = ${expression};
        }
      }`,
  }
}

/**
 * A program with one workgroup per row of a (rows, width) input: the WGSL `body` sees
 * `row` (the workgroup's index), `valid` (false in a grid's spare workgroups: they must still reach every
 * barrier), `rows`, `width`, `base` (row · width) and `lid` (the thread), and the
 * workgroup array `scratch` for reductions, with `rowSum` and `rowMax` over it.
 */
export function rowProgram(options: {
  key: string
  names: string[]
  rows: number
  /** Workgroups to launch, when not one per row (each then takes several rows). */
  workgroups?: number
  width: number
  outputShape: number[]
  backend: WebGpuBackendLike
  /** More uniforms, WGSL struct fields ('eps : f32,'). */
  uniforms?: string
  body: (workgroup: number) => string
}): { program: WebGpuProgram; uniforms: Uniform[] } {
  const wg = rowWorkgroup(options.width)
  const program: WebGpuProgram = {
    outputShape: options.outputShape,
    shaderKey: options.key,
    dispatchLayout: { x: options.outputShape.map((_, i) => i) },
    dispatch: workgroupGrid(
      options.workgroups ?? options.rows,
      options.backend.device.limits.maxComputeWorkgroupsPerDimension,
    ),
    workgroupSize: [wg, 1, 1],
    variableNames: options.names,
    uniforms: `rows : i32, width : i32, ${options.uniforms ?? ''}`,
    getUserCode: () => `
      var<workgroup> scratch : array<f32, ${wg}>;
      ${unitIndexSnippet}
      ${workgroupSumSnippet('rowSum', 'scratch', wg)}
      ${workgroupReduceSnippet('rowMax', 'scratch', wg, (a, b) => `max(${a}, ${b})`)}
      fn main(index : i32) {
        let row = unitIndex();
        let rows = uniforms.rows;
        let width = uniforms.width;
        let valid = row < rows;
        let base = row * width;
        let lid = i32(localId.x);
        ${options.body(wg)}
      }`,
  }
  return { program, uniforms: [i32(options.rows), i32(options.width)] }
}

/** Runs a rowProgram on `inputs` (in `names` order) with more uniform values after its own. */
export function runRowProgram(
  options: Parameters<typeof rowProgram>[0] & { inputs: tfc.TensorInfo[]; values?: Uniform[] },
): tfc.TensorInfo {
  const { program, uniforms } = rowProgram(options)
  return options.backend.runWebGPUProgram(program, options.inputs, 'float32', [
    ...uniforms,
    ...(options.values ?? []),
  ])
}

/** The few WebGPU objects recordOwnDispatch handles (dawn.node implements the standard API). */
interface GpuPipeline {
  getBindGroupLayout(index: number): unknown
}
interface GpuComputePass {
  setPipeline(pipeline: GpuPipeline): void
  setBindGroup(index: number, group: unknown): void
  dispatchWorkgroups(x: number, y?: number, z?: number): void
  end(): void
}

/**
 * What of tfjs-backend-webgpu 4.22's internals recordOwnDispatch uses to put a launch of
 * Frugal's own pipeline into the backend's command stream, in order with tfjs's launches
 * (package.json pins the version; test/unit/worker/webgpu.test.ts covers it).
 */
export interface OwnPipelineBackend extends WebGpuBackendLike {
  device: WebGpuBackendLike['device'] & {
    createShaderModule(descriptor: { code: string }): unknown
    createComputePipeline(descriptor: {
      layout: 'auto'
      compute: { module: unknown; entryPoint: string }
    }): GpuPipeline
    createBindGroup(descriptor: {
      layout: unknown
      entries: { binding: number; resource: unknown }[]
    }): unknown
  }
  tensorMap: { get(dataId: tfc.DataId): { values: unknown; resource?: unknown } }
  uploadToGPU(dataId: tfc.DataId): void
  /** Writes the values into a uniform buffer released at the next submit. */
  makeUniforms(uniforms: Uniform[]): { offset: number; size: number; buffer: unknown }
  ensureCommandEncoderReady(): void
  commandEncoder: { beginComputePass(descriptor: object): GpuComputePass }
  computePassEncoder: GpuComputePass | null
  endComputePassEncoder(): void
  submitQueue(): void
  dispatchCountInPass: number
  /** Data a recorded launch uses: its disposal waits for the submit. */
  commandQueueOwnedIds: WeakSet<tfc.DataId>
}

const ownPipelines = new WeakMap<object, Map<string, GpuPipeline>>()
let ownDispatches = 0

/** Launches of Frugal's own pipelines so far (bench:gpu adds them to tfjs's). */
export const ownDispatchCount = (): number => ownDispatches

/**
 * Record one launch of a compute pipeline of Frugal's own, where tfjs's programs cannot
 * serve: they bind inputs read-only and write a single output, and this binds every
 * tensor read-write (binding i: tensors[i]; the uniforms after them, as `makeUniforms`
 * lays them out). The WGSL (`code`, compiled once per device and `key`) declares
 * `@workgroup_size` and its bindings itself. The launch joins tfjs's current compute pass,
 * so it runs after every launch recorded before it and before every one after.
 */
export function recordOwnDispatch(
  backend: OwnPipelineBackend,
  launch: {
    key: string
    code: () => string
    tensors: tfc.TensorInfo[]
    uniforms: Uniform[]
    workgroups: number
  },
): void {
  const { device } = backend
  let pipelines = ownPipelines.get(device)
  if (!pipelines) ownPipelines.set(device, (pipelines = new Map<string, GpuPipeline>()))
  let pipeline = pipelines.get(launch.key)
  if (!pipeline) {
    const module = device.createShaderModule({ code: launch.code() })
    pipeline = device.createComputePipeline({
      layout: 'auto',
      compute: { module, entryPoint: 'main' },
    })
    pipelines.set(launch.key, pipeline)
  }
  const entries = launch.tensors.map((t, binding) => {
    backend.uploadToGPU(t.dataId)
    backend.commandQueueOwnedIds.add(t.dataId)
    return { binding, resource: { buffer: backend.tensorMap.get(t.dataId).resource } }
  })
  entries.push({ binding: entries.length, resource: backend.makeUniforms(launch.uniforms) })
  const bindGroup = device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries })
  backend.ensureCommandEncoderReady()
  backend.computePassEncoder ??= backend.commandEncoder.beginComputePass({})
  backend.computePassEncoder.setPipeline(pipeline)
  backend.computePassEncoder.setBindGroup(0, bindGroup)
  backend.computePassEncoder.dispatchWorkgroups(launch.workgroups)
  ownDispatches++
  // Submitted in batches as tfjs submits its own launches.
  if (++backend.dispatchCountInPass >= Number(tfc.env().get('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE'))) {
    backend.endComputePassEncoder()
    backend.submitQueue()
  }
}
