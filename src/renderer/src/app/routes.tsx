import { BarChart3, Boxes, Database, FlaskConical, ListChecks, Settings, Type } from 'lucide-react'
import type { ComponentType, ReactNode } from 'react'
import { DataScreen } from '../screens/data/DataScreen'
import { EvaluateScreen } from '../screens/evaluate/EvaluateScreen'
import { ModelsScreen } from '../screens/models/ModelsScreen'
import { ReviewScreen } from '../screens/review/ReviewScreen'
import { SettingsScreen } from '../screens/settings/SettingsScreen'
import { TokenizerScreen } from '../screens/tokenizer/TokenizerScreen'
import { TrainScreen } from '../screens/train/TrainScreen'

export interface Screen {
  path: string
  label: string
  icon: ReactNode
  /** Ctrl/Cmd + this digit opens the screen. */
  key: string
  component: ComponentType
  /** The screen has its own sub-routes (/train/new, /train/run/:id...). */
  nest?: boolean
}

/** The screens, in the order of the work: data, then tokenizer, training, evaluation. */
export const screens: Screen[] = [
  { path: '/data', label: 'Data', icon: <Database size={16} />, key: '1', component: DataScreen },
  {
    path: '/review',
    label: 'Review',
    icon: <ListChecks size={16} />,
    key: '2',
    component: ReviewScreen,
  },
  {
    path: '/tokenizer',
    label: 'Tokenizer',
    icon: <Type size={16} />,
    key: '3',
    component: TokenizerScreen,
  },
  {
    path: '/train',
    label: 'Train',
    icon: <FlaskConical size={16} />,
    key: '4',
    component: TrainScreen,
    nest: true,
  },
  {
    path: '/evaluate',
    label: 'Evaluate',
    icon: <BarChart3 size={16} />,
    key: '5',
    component: EvaluateScreen,
  },
  {
    path: '/models',
    label: 'Models',
    icon: <Boxes size={16} />,
    key: '6',
    component: ModelsScreen,
  },
  {
    path: '/settings',
    label: 'Settings',
    icon: <Settings size={16} />,
    key: '7',
    component: SettingsScreen,
  },
]
