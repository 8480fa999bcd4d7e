/**
 * `deepn tables <subcommand>`: offline quantization-table tools.
 *   build     DeepN-PLM tables from the DCT statistics of a calibration set (this file)
 *   optimize  model-aware table search (scripts/tables/optimize.ts, loaded only when asked for)
 */
import { choiceOption, numberOption, parseOptions, subcommand, UsageError } from '../../agent/cli-args'
import { checkOutputFile, writeOutputFile } from '../../agent/output-file'
import { Calibration } from '../../shared/deepn/calibration'
import { PAPER_PLM, plmParams, type PlmParams } from '../../shared/deepn/plm'
import { deepnTableFile } from '../../shared/deepn/table-file'
import type { Subsampling } from '../../shared/codec/types'
import { Progress, progressEnabled } from '../eval/progress'
import { formatTableJson } from '../../shared/codec/table-format'
import { decodePhoto, fashionMnistImages, listImageFiles } from './sources'
import { MissingPackageError } from '../common/backend-package'

const BUILD_HELP = `usage: deepn tables build (--fmnist [--data-dir DIR] | --images PATH...) --id ID [options]

Builds a DeepN-PLM table file from per-coefficient DCT standard deviations of a calibration set.

  --fmnist             calibrate on the Fashion-MNIST training split (gray, luma only)
  --data-dir DIR       Fashion-MNIST IDX directory (default /usr/share/datasets/fashion-mnist)
  --images PATH        photo files or folders of .jpg/.png (repeatable; colour, Y/Cb/Cr)
  --max-side N         shrink photos so the longer side is <= N before analysis (match the camera)
  --subsampling S      420 (default) or 444: must match how frames will be encoded
  --limit N            use only the first N images
  --label TEXT         what the calibration set is (recorded in source.calibration)
  --id ID              table id (default deepn)
  --out FILE           output JSON (default config/tables/<id>.json; '-' for stdout)
  --force              replace an existing output file (never done silently: shipped tables live there)
  --scale X            scale knob (default 1: the paper's mapping)
  --plm k=v,...        override PLM parameters (${Object.keys(PAPER_PLM).join(', ')})
  --progress           progress bar on stderr even when not a TTY`

export function parsePlm(spec: string | undefined): Partial<PlmParams> {
  if (!spec) return {}
  const out: Partial<PlmParams> = {}
  for (const part of spec.split(',')) {
    const [k, v] = part.split('=')
    if (!Object.hasOwn(PAPER_PLM, k))
      throw new UsageError(`--plm: unknown parameter '${k}' (known: ${Object.keys(PAPER_PLM).join(', ')})`)
    const n = Number(v)
    if (v === undefined || v === '' || !Number.isFinite(n))
      throw new UsageError(`--plm: ${k} needs a number, got '${v}'`)
    out[k as keyof PlmParams] = n
  }
  plmParams(out) // validate the combination now
  return out
}

/** Quotes an argument for a POSIX shell only when needed, so the recorded command can be pasted back. */
export function shellQuote(a: string): string {
  return /^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`
}

async function build(argv: string[]): Promise<number> {
  const { values: o } = parseOptions({
    args: argv,
    options: {
      fmnist: { type: 'boolean' },
      'data-dir': { type: 'string' },
      images: { type: 'string', multiple: true },
      'max-side': { type: 'string' },
      subsampling: { type: 'string' },
      limit: { type: 'string' },
      label: { type: 'string' },
      id: { type: 'string' },
      out: { type: 'string' },
      scale: { type: 'string' },
      plm: { type: 'string' },
      progress: { type: 'boolean' },
      force: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  })
  if (o.help) {
    console.log(BUILD_HELP)
    return 0
  }
  if (Boolean(o.fmnist) === Boolean(o.images?.length))
    throw new UsageError('tables build: give exactly one of --fmnist or --images')
  const subsampling: Subsampling = choiceOption('--subsampling', o.subsampling, ['420', '444'] as const) ?? '420'
  const limit = numberOption('--limit', o.limit, { above: 0 }) ?? Infinity
  const scale = numberOption('--scale', o.scale, { above: 0 }) ?? 1
  const maxSide = numberOption('--max-side', o['max-side'], { above: 0 })
  const plm = parsePlm(o.plm)
  const id = o.id ?? 'deepn'
  const out = o.out ?? `config/tables/${id}.json`
  // before the work: `--id natural-deepn` run from the repository must not silently replace the shipped table
  if (out !== '-') checkOutputFile(out, { option: '--out', inputs: o.images, force: o.force })
  const cal = new Calibration(subsampling)
  let description: string
  const extra: Record<string, unknown> = { subsampling }
  const t0 = Date.now()
  const skipped: string[] = []
  if (o.fmnist) {
    const total = Math.min(limit, 60000)
    const bar = new Progress(total, progressEnabled(Boolean(o.progress)), 'fashion-mnist train')
    for (const img of fashionMnistImages(o['data-dir'], limit)) {
      cal.addImage(img)
      bar.tick()
    }
    bar.end()
    description = `fashion-mnist train split, ${cal.images} images (Debian dataset-fashion-mnist)`
  } else {
    const listed = listImageFiles(o.images ?? []).slice(0, limit)
    const bar = new Progress(listed.length, progressEnabled(Boolean(o.progress)))
    // One bad photo in a folder of hundreds is skipped, named and counted, not the end of the build.
    const files: string[] = []
    for (const f of listed) {
      bar.setLabel(f.split('/').pop() ?? f)
      try {
        cal.addImage(await decodePhoto(f, maxSide))
        files.push(f)
      } catch (err) {
        if (err instanceof MissingPackageError) throw err // not this photo's fault: no photo can be decoded
        skipped.push(f)
        bar.clear()
        console.error(`deepn tables: skipping ${(err as Error).message}`)
      }
      bar.tick()
    }
    bar.end()
    if (files.length === 0) throw new Error(`no usable image: all ${listed.length} failed to decode`)
    description = `${o.label ? `${o.label}: ` : ''}${files.length} photos${maxSide ? `, longer side <= ${maxSide}` : ''}`
    extra.files = files
    if (skipped.length) extra.skipped = skipped
    if (maxSide) extra.maxSide = maxSide
  }
  extra.command = `deepn tables build ${argv.map(shellQuote).join(' ')}`
  const file = deepnTableFile(cal.stats(description), { id, plm, scale, extra })
  const json = formatTableJson(file)
  if (out === '-') process.stdout.write(json)
  else {
    writeOutputFile(out, json, { overwrite: Boolean(o.force) })
    console.error(
      `wrote ${out}: ${cal.images} images${skipped.length ? ` (${skipped.length} skipped: ${skipped.join(', ')})` : ''}, ${cal.luma.count} luma / ${cal.chroma.count} chroma blocks in ${((Date.now() - t0) / 1000).toFixed(1)}s`,
    )
  }
  return 0
}

export async function main(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv
  if (sub === 'build') return subcommand('tables build', () => build(rest))
  if (sub === 'optimize')
    return subcommand('tables optimize', () => (require('./optimize') as typeof import('./optimize')).main(rest))
  if (sub === '--help' || sub === '-h') {
    console.log(
      `usage: deepn tables build|optimize ...   ('deepn tables build --help', 'deepn tables optimize --help')`,
    )
    return 0
  }
  throw new UsageError(
    sub === undefined
      ? 'missing subcommand: build or optimize'
      : `unknown subcommand '${sub}': expected build or optimize`,
  )
}
