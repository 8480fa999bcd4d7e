import t from 'tap'
import { MemorySavedConfigStore } from '../../agent/saved-config/memory-store'
import { savedConfigSuite } from './store-suite'

savedConfigSuite(t, () => new MemorySavedConfigStore())
