/**
 * `npm run fetch:models`: fills (or verifies) the detection benchmark's model caches, every model or one.
 * An on-demand model (NanoDet, 51 MB) is fetched only when named, so CI's fetch stays small.
 *
 *   node dist/scripts/eval/fetch-models.js [--model NAME [--dir DIR]]     (CI runs it in .ci/run and npm test)
 */
import { choiceOption, parseOptions, UsageError } from '../../agent/cli-args'
import { CENTERNET_MODEL } from './centernet-model'
import { COCO_SSD_MODEL } from './coco-ssd-model'
import { NANODET_MODEL } from './nanodet-model'
import { defaultModelDir, ensureModel, type PinnedModel } from './pinned-model'

export const PINNED_MODELS: readonly PinnedModel[] = [COCO_SSD_MODEL, CENTERNET_MODEL, NANODET_MODEL]

export function fetchModels(argv: string[], log: (s: string) => void): void {
  const { values: o } = parseOptions({ args: argv, options: { model: { type: 'string' }, dir: { type: 'string' } } })
  const only = choiceOption(
    '--model',
    o.model,
    PINNED_MODELS.map((m) => m.name),
  )
  if (o.dir !== undefined && only === undefined) throw new UsageError('--dir needs --model NAME (one folder per model)')
  for (const m of PINNED_MODELS.filter((m) => (only === undefined ? !m.onDemand : m.name === only)))
    ensureModel(m, o.dir ?? defaultModelDir(m), log)
}

if (require.main === module) {
  try {
    fetchModels(process.argv.slice(2), (s) => console.log(s))
  } catch (err) {
    console.error(`fetch-models: ${(err as Error).message}`)
    process.exitCode = 1
  }
}
