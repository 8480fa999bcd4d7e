/**
 * `deepn encode`: one image file (PPM/PGM/PNG/JPEG/BMP) → baseline JPEG with DeepN or standard tables.
 * Throws UsageError (exit 2) for a bad command line, Error (exit 1) for input/output errors; see agent/cli-args.ts.
 */
import { readFileSync } from 'node:fs'
import { encodeJpeg } from '../../shared/codec/encoder'
import { parseTableFile } from '../../shared/codec/tables'
import type { DctMethod, EncodeOptions, Subsampling } from '../../shared/codec/types'
import { choiceOption, numberOption, parseOptions, UsageError } from '../cli-args'
import { decodeImageFile } from '../image-files/decode'
import { toBlockKeep } from '../../shared/spatial/keep-map'
import { readKeepMapFile } from '../keep-map-file'
import { checkOutputFile, writeOutputFile } from '../output-file'

const HELP = `usage: deepn encode <in.ppm|in.pgm|in.png|in.jpg|in.bmp> -o <out.jpg> [options]

options:
  -o, --output FILE       output JPEG (required)
  --tables FILE           quantization table file (JSON { id, luma[64], chroma[64] }, natural order)
  --quality N             IJG quality 1..100 on the Annex K tables (default 75; ignored with --tables)
  --subsampling 444|420   chroma subsampling for colour input (default 420; gray input is one component)
  --dct islow|ifast       forward DCT (default islow, libjpeg's accurate integer DCT)
  --optimize              two-pass optimal Huffman tables
  --progressive           progressive (SOF2): a DC scan, then one AC scan per component, each with optimal
                          tables (cjpeg -scans with that script); cheapest where a keep map leaves blocks DC-only
  --restart N | NB        restart interval: N MCU rows, or N MCUs with a B suffix (as cjpeg -restart)
  --metadata JSON         JSON object stored in the DEEPN APP9 segment
  --keep-map FILE         importance map (JSON { id, cols, rows, levels, keep }, what deepn eval detect learns
                          and the backend pushes as encoder.keepMap): blocks keep only their cell's coefficients
  -h, --help              this text

Inputs: PPM (P6) / PGM (P5) with maxval 255, PNG (any bit depth; 16-bit is reduced to 8), baseline, extended or
progressive JPEG, BMP (24/32-bit, or 8-bit palettised). Refused with a message naming the file: 16-bit PPM/PGM
(maxval above 255), RLE-compressed BMP, images of 0 pixels or above 64 megapixels, truncated files.

Without --optimize, --progressive, --restart, --metadata and --keep-map the output is byte-identical to
cjpeg -dct int -baseline -qtables T -qslots 0,1,1 -sample 2x2 (or 1x1 for 444).`

interface Args {
  input: string
  output: string
  tablesFile?: string
  quality?: number
  subsampling: Subsampling
  dct: DctMethod
  optimize: boolean
  progressive: boolean
  restart?: { count: number; unit: 'rows' | 'mcus' }
  metadata?: Record<string, unknown>
  keepMapFile?: string
}

export function parseEncodeArgs(argv: string[]): Args | 'help' {
  const { values: o, positionals } = parseOptions({
    args: argv,
    allowPositionals: true,
    options: {
      output: { type: 'string', short: 'o' },
      tables: { type: 'string' },
      quality: { type: 'string' },
      subsampling: { type: 'string' },
      dct: { type: 'string' },
      optimize: { type: 'boolean' },
      progressive: { type: 'boolean' },
      restart: { type: 'string' },
      metadata: { type: 'string' },
      'keep-map': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  })
  if (o.help) return 'help'
  const a: Partial<Args> = {
    tablesFile: o.tables,
    quality: numberOption('--quality', o.quality, { integer: true, min: 1, max: 100 }),
    subsampling: choiceOption('--subsampling', o.subsampling, ['444', '420'] as const) ?? '420',
    dct: choiceOption('--dct', o.dct, ['islow', 'ifast'] as const) ?? 'islow',
    optimize: o.optimize ?? false,
    progressive: o.progressive ?? false,
    keepMapFile: o['keep-map'],
  }
  if (o.restart !== undefined) {
    const m = /^(\d+)([bB]?)$/.exec(o.restart)
    const count = m ? Number(m[1]) : NaN
    if (!m || count > 65535)
      throw new UsageError(`--restart must be N (MCU rows) or NB (MCUs), N at most 65535, got '${o.restart}'`)
    a.restart = { count, unit: m[2] ? 'mcus' : 'rows' }
  }
  if (o.metadata !== undefined) {
    let parsed: unknown
    try {
      parsed = JSON.parse(o.metadata)
    } catch {
      throw new UsageError(`--metadata: not valid JSON: ${o.metadata}`)
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
      throw new UsageError('--metadata: expected a JSON object')
    a.metadata = parsed as Record<string, unknown>
  }
  if (positionals.length === 0) throw new UsageError('missing input file')
  if (positionals.length > 1)
    throw new UsageError(`expected one input file, got ${positionals.length}: ${positionals.join(' ')}`)
  if (o.output === undefined) throw new UsageError('missing -o <out.jpg>')
  if (a.tablesFile !== undefined && a.quality !== undefined)
    throw new UsageError('--tables and --quality are mutually exclusive')
  return { ...(a as Args), input: positionals[0], output: o.output }
}

function readFile(path: string, what: string): Buffer {
  try {
    return readFileSync(path)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    throw new Error(`cannot read ${what} '${path}': ${code === 'ENOENT' ? 'no such file' : (err as Error).message}`)
  }
}

export async function main(argv: string[]): Promise<number> {
  const args = parseEncodeArgs(argv)
  if (args === 'help') {
    console.log(HELP)
    return 0
  }
  // cjpeg-like: an existing output is replaced (atomically), but never one of the inputs (encode x.png -o x.png)
  checkOutputFile(args.output, {
    option: '-o',
    inputs: [args.input, ...[args.tablesFile, args.keepMapFile].filter((f) => f !== undefined)],
    refuseExisting: false,
    createDir: false,
  })
  const image = decodeImageFile(readFile(args.input, 'input'), args.input)
  const options: EncodeOptions = {
    subsampling: args.subsampling,
    dct: args.dct,
    optimizeHuffman: args.optimize,
    progressive: args.progressive,
  }
  let tablesLabel = `quality ${args.quality ?? 75}`
  if (args.tablesFile !== undefined) {
    const file = parseTableFile(readFile(args.tablesFile, 'table file').toString('utf8'), args.tablesFile)
    options.tables = { luma: file.luma, chroma: file.chroma }
    tablesLabel = `tables ${file.id}`
    // the file's trained Huffman set comes with its tables, unless --optimize or --progressive asks for per-image
    // optimal codes
    if (file.huffman && !args.optimize && !args.progressive) {
      options.huffman = file.huffman
      tablesLabel += ' + its Huffman set'
    }
  } else if (args.quality !== undefined) {
    options.quality = args.quality
  }
  if (args.restart) {
    const mcuWidth = image.format !== 'gray' && args.subsampling === '420' ? 16 : 8
    const perRow = Math.ceil(image.width / mcuWidth)
    options.restartInterval = Math.min(
      65535,
      args.restart.unit === 'mcus' ? args.restart.count : args.restart.count * perRow,
    )
  }
  if (args.metadata) options.metadata = args.metadata
  if (args.keepMapFile !== undefined) {
    const map = readKeepMapFile(args.keepMapFile)
    options.blockKeep = toBlockKeep(map, null, 64) // no motion: a still image
    tablesLabel += `, keep map ${map.id}`
  }
  const jpeg = encodeJpeg(image, options)
  writeOutputFile(args.output, jpeg, { createDir: false })
  const sub = image.format === 'gray' ? 'gray' : args.subsampling
  console.log(
    `${args.output}: ${image.width}x${image.height} ${sub} ${args.dct}, ${tablesLabel} → ${jpeg.length} bytes`,
  )
  return 0
}
