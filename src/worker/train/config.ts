/** Training configuration: the schema lives in src/shared/config (the run form needs it too). */
import type { TrainConfig } from '../../shared/config/train'

export {
  grpoSettings,
  isPolicyRun,
  isPreferenceRun,
  isRewardRun,
  sequenceLengthOf,
  tokensPerStep,
  trainsOnOneThread,
  type GrpoConfig,
  type RewardRule,
  trainConfigSchema,
  type TrainConfig,
  type TrainConfigInput,
} from '../../shared/config/train'

export function usesLossScaling(c: TrainConfig): boolean {
  if (c.lossScaling !== 'auto') return c.lossScaling === 'on'
  return c.precision === 'fp16' || c.precision.startsWith('fp8')
}
