import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { availableParallelism } from 'node:os'

/** CPU, GPU and energy readings for a run's charts; only what this machine can measure. */
export interface SystemSample {
  /** This process (all its threads) as a share of every core, in percent. */
  cpuPercent: number
  gpuUtil?: number
  gpuMemoryMb?: number
  /** Energy used since the sampler started, in joules, from RAPL or the GPU's power draw. */
  energyJ?: number
}

const RAPL = '/sys/class/powercap/intel-rapl:0/energy_uj'

function readRapl(): number | null {
  try {
    return Number(readFileSync(RAPL, 'utf8'))
  } catch {
    return null
  }
}

/**
 * Polls cheaply between steps. nvidia-smi runs asynchronously at most every 5 s (a slow GPU
 * query must not stall training) and is given up after its first failure.
 */
export class SystemSampler {
  private lastCpu = process.cpuUsage()
  private lastAt = performance.now()
  private readonly raplStart = readRapl()
  private gpu: { util: number; memoryMb: number; powerW: number } | null = null
  private gpuEnergyJ = 0
  private gpuAvailable = true
  private lastGpuQuery = 0

  sample(): SystemSample {
    const now = performance.now()
    const cpu = process.cpuUsage(this.lastCpu)
    const wallUs = (now - this.lastAt) * 1000
    const elapsedS = (now - this.lastAt) / 1000
    this.lastCpu = process.cpuUsage()
    this.lastAt = now
    const out: SystemSample = {
      cpuPercent:
        wallUs > 0 ? ((cpu.user + cpu.system) / wallUs / availableParallelism()) * 100 : 0,
    }
    if (this.gpu) {
      out.gpuUtil = this.gpu.util
      out.gpuMemoryMb = this.gpu.memoryMb
      this.gpuEnergyJ += this.gpu.powerW * elapsedS
    }
    const rapl = readRapl()
    if (rapl !== null && this.raplStart !== null)
      out.energyJ = (rapl - this.raplStart) / 1e6 + this.gpuEnergyJ
    else if (this.gpu) out.energyJ = this.gpuEnergyJ
    this.queryGpu(now)
    return out
  }

  private queryGpu(now: number): void {
    if (!this.gpuAvailable || now - this.lastGpuQuery < 5000) return
    this.lastGpuQuery = now
    execFile(
      'nvidia-smi',
      ['--query-gpu=utilization.gpu,memory.used,power.draw', '--format=csv,noheader,nounits'],
      { timeout: 3000 },
      (err, stdout) => {
        if (err) {
          this.gpuAvailable = false
          return
        }
        const [util, mem, power] = stdout
          .trim()
          .split('\n')[0]
          .split(',')
          .map((x) => Number(x.trim()))
        if ([util, mem].every((x) => Number.isFinite(x)))
          this.gpu = { util: util, memoryMb: mem, powerW: Number.isFinite(power) ? power : 0 }
      },
    )
  }
}
