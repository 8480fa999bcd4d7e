/**
 * `deepn demo --video FILE --detector coco-ssd|centernet|nanodet`: the model-aware loop on one machine. The video's frames
 * go through the real agent (files source → encoder → buffer → MQTT to the in-process broker), the reference
 * receiver stores them, and this file plays the backend: the detector on every stored frame (published as
 * detection results), and on the original frame too, to score F1 against what compression left. After the first
 * K frames it learns an importance map from its detections and searches a detector-tuned table on those frames'
 * originals, pushes both in one `config/set`, and prints bytes per frame and F1 before and after the push.
 */
import { randomUUID } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { basename, extname, join, resolve } from 'node:path'
import mqtt, { type MqttClient } from 'mqtt'
import { choiceOption, numberListOption, numberOption, parseOptions, UsageError } from '../../agent/cli-args'
import { fromLayers, loadLocalConfig } from '../../agent/config-file'
import { createAgent, stopOnSignals } from '../../agent/commands/run'
import { decodeImageFile } from '../../agent/image-files/decode'
import { createLogger, errorMessage } from '../../agent/log'
import { packagePath } from '../../agent/package-root'
import { savedConfigPath } from '../../agent/saved-config/open'
import { parseTableFile } from '../../shared/codec/tables'
import type { RawImage, TableFile } from '../../shared/codec/types'
import { mergePartials, validatePartial } from '../../shared/config'
import { buildConfigSet, type ConfigResult, parseConfigResult } from '../../shared/contract/config-messages'
import { readFrameMetadata } from '../../shared/contract/frame-metadata'
import { buildDetectionResult } from '../../shared/contract/results'
import { Leaf, topic } from '../../shared/contract/topics'
import { tiltTableFile } from '../../shared/deepn/tilt-table'
import type { KeepMap } from '../../shared/spatial/keep-map'
import { learnKeepMap } from '../../shared/spatial/learn'
import { redactUrl } from '../backend/receive/mqtt-session'
import type { FrameEvent } from '../backend/receive/receiver'
import { sharpDecoder } from '../eval/detect'
import { mapGrid } from '../eval/detect-spatial'
import { type Detection, DETECTOR_INFO, DETECTORS, type DetectorName, loadDetector } from '../eval/detector'
import { type CalibrationFrame, DEFAULT_TILT_SEARCH, detectorTableFile, searchTiltTable } from '../eval/detector-tables'
import type { KeepLevels } from '../eval/map-levels'
import { type Counts, matchFrame, prf, sumCounts } from '../eval/detection-metric'
import { ourEncoder } from '../eval/evaluate'
import { type FrameSource, videoSource, VTEST_AVI } from '../eval/video-frames'
import { startBroker } from './broker'
import { startDemoReceiver, Teardown } from './teardown'

const DEFAULTS = { frames: 80, every: 4, learn: 20, intervalMs: 1500, targetF1: 0.95, scales: [1, 2, 3] }
/** The demo's table search: small, so the push lands while frames still flow. */
const SEARCH = { tilts: [0, 2], chromas: [0.5, 1] }
/**
 * Coefficients the learned map keeps per level [never covered, rarely covered, busy]. K frames are too few to learn
 * on one half and judge on the other, so the demo takes what the benchmark's keep-level search chose on vtest
 * (docs/detection-benchmark.md, Phase 3): the learner's own 1/1/6 never reached F1 0.96 on frames its map had not
 * learned from, because an object turning up in a cell never seen busy kept DC only.
 */
const DEMO_KEEP: KeepLevels = [3, 10, 64]
/** How long the agent has to answer a config/set. */
const CONFIG_TIMEOUT_MS = 15000
/** No frame handled for this long: something is stuck; say so instead of waiting for Ctrl-C. */
const STALL_MS = 120000

export const VIDEO_USAGE = `usage: deepn demo --video [FILE] [--detector coco-ssd|centernet|nanodet] [options]

The model-aware loop on one machine. Frames of FILE (default ${VTEST_AVI})
are decoded by ffmpeg to <data>/video-frames/*.ppm and replayed by the real agent (files source) over MQTT to the
in-process broker; the receiver stores them in <data>/video-received/. The backend runs the detector on every stored
frame (detection results on <prefix>/<device>/results) and on its original, to score F1. After the first K frames
it learns an importance map from its detections and a detector-tuned table from those frames' originals, pushes
both to the device in one config/set (encoder.tables + table + optimizeHuffman + keepMap; an agent that refuses
keepMap gets the table alone), and prints bytes per frame and F1 (vs the original frames' detections) before and
after the push.
  --detector NAME     coco-ssd (the default), centernet or nanodet
  --frames N          frames replayed (default ${DEFAULTS.frames})
  --every N           every Nth frame of the video (default ${DEFAULTS.every})
  --learn K           frames seen before learning and pushing (default ${DEFAULTS.learn})
  --interval-ms MS    the agent's capture interval (default ${DEFAULTS.intervalMs}): the backend must keep up
  --scales LIST       table search scales (default ${DEFAULTS.scales.join(',')}); tilts ${SEARCH.tilts.join(',')}, chromas ${SEARCH.chromas.join(',')}
  --target-f1 F       the F1 the search buys as cheaply as it can (default ${DEFAULTS.targetF1})
  --keep-levels A/B/C coefficients the map keeps in cells never covered / rarely covered / busy, or A/B/C/D
                      with busy split into walkways / standing places (default
                      ${DEMO_KEEP.join('/')}, chosen on vtest by eval detect's keep-level search)
  --no-search         push a table file instead: --table FILE, or config/tables/<clip>-<ssd|centernet>.json
  --table FILE        the table --no-search pushes
  --model-dir DIR     the detector's model cache (npm run fetch:models fills COCO-SSD's and CenterNet's;
                      NanoDet's only when named: npm run fetch:models -- --model nanodet)
  --port N, --data DIR, --config FILE   as for the plain demo
The frames folder is removed at the end; <data>/video-received/ and the agent's buffer <data>/video-buffer.db
(with its saved remote config) start afresh on every run, so seq n is the nth frame.`

interface VideoArgs {
  video: string
  detector: DetectorName
  frames: number
  every: number
  learn: number
  intervalMs: number
  scales: number[]
  targetF1: number
  keep: KeepLevels
  /** The table file pushed without a search. */
  table?: string
  modelDir?: string
  port?: number
  data: string
  config?: string
}

/** The video demo is asked for by `--video` or `--detector`. */
export function isVideoDemo(argv: readonly string[]): boolean {
  return argv.some((a) => /^--(video|detector)(=|$)/.test(a))
}

function parseVideoArgs(argv: string[]): VideoArgs | 'help' {
  // `--video` alone means the default clip: parseArgs needs a value, so give it the default.
  const args = argv.flatMap((a, i) =>
    a === '--video' && (i + 1 >= argv.length || argv[i + 1].startsWith('--')) ? [a, VTEST_AVI] : [a],
  )
  const { values: o } = parseOptions({
    args,
    options: {
      video: { type: 'string' },
      detector: { type: 'string' },
      frames: { type: 'string' },
      every: { type: 'string' },
      learn: { type: 'string' },
      'interval-ms': { type: 'string' },
      scales: { type: 'string' },
      'target-f1': { type: 'string' },
      'keep-levels': { type: 'string' },
      'no-search': { type: 'boolean' },
      table: { type: 'string' },
      'model-dir': { type: 'string' },
      port: { type: 'string' },
      data: { type: 'string' },
      config: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  })
  if (o.help) return 'help'
  for (const name of ['video', 'table', 'model-dir', 'data', 'config'] as const)
    if (o[name] === '')
      throw new UsageError(`--${name} needs a ${name === 'data' || name === 'model-dir' ? 'directory' : 'file'}`)
  const detector = choiceOption('--detector', o.detector, DETECTORS) ?? 'coco-ssd'
  const int = (name: string, v: string | undefined) => numberOption(name, v, { integer: true, min: 1 })
  const frames = int('--frames', o.frames) ?? DEFAULTS.frames
  const learn = int('--learn', o.learn) ?? Math.min(DEFAULTS.learn, Math.max(1, Math.floor(frames / 3)))
  if (learn >= frames)
    throw new UsageError(`--learn ${learn} leaves no frame after the push: it must be below --frames ${frames}`)
  const video = resolve(o.video ?? VTEST_AVI)
  if (!existsSync(video)) throw new UsageError(`--video ${video}: no such file`)
  if (o.table && !o['no-search']) throw new UsageError('--table is pushed instead of a search: give --no-search too')
  let table: string | undefined
  if (o['no-search']) {
    const shipped = packagePath('config', 'tables', `${clipTableId(video, detector as DetectorName)}.json`)
    table = o.table ?? shipped
    if (!existsSync(table))
      throw new UsageError(
        o.table ? `--table ${table}: no such file` : `--no-search needs --table FILE (${shipped} is not shipped)`,
      )
  }
  return {
    video,
    detector: detector as VideoArgs['detector'],
    frames,
    every: int('--every', o.every) ?? DEFAULTS.every,
    learn,
    intervalMs: numberOption('--interval-ms', o['interval-ms'], { integer: true, min: 0 }) ?? DEFAULTS.intervalMs,
    scales: numberListOption('--scales', o.scales) ?? DEFAULTS.scales,
    targetF1: numberOption('--target-f1', o['target-f1'], { above: 0, max: 1 }) ?? DEFAULTS.targetF1,
    keep: o['keep-levels'] === undefined ? DEMO_KEEP : parseKeepLevels(o['keep-levels']),
    table,
    modelDir: o['model-dir'],
    port: numberOption('--port', o.port, { integer: true, min: 0, max: 65535 }),
    data: o.data ?? 'data',
    config: o.config,
  }
}

export async function main(argv: string[]): Promise<number> {
  const args = parseVideoArgs(argv)
  if (args === 'help') {
    console.log(VIDEO_USAGE)
    return 0
  }
  const teardown = new Teardown()
  try {
    return await runVideoDemo(args, teardown)
  } finally {
    await teardown.run()
  }
}

/**
 * `A/B/C` (never covered / rarely / busy) or `A/B/C/D` (busy split into walkways and standing places): coefficient
 * counts 0..64 (0 = blank), none below the one before (a busier cell never keeps less).
 */
export function parseKeepLevels(text: string): KeepLevels {
  const parts = text.split('/')
  const n = parts.map((p) => (/^\d+$/.test(p) ? Number(p) : Number.NaN))
  if (n.length < 3 || n.length > 4 || n.some((k) => !(k >= 0 && k <= 64)))
    throw new UsageError(
      `--keep-levels needs three or four counts 0..64 as A/B/C or A/B/C/D (e.g. 3/10/64; 0 = blank), got '${text}'`,
    )
  if (n.some((k, i) => i > 0 && k < n[i - 1]))
    throw new UsageError(
      `--keep-levels ${text}: a busier level must keep at least as many coefficients as the one before`,
    )
  return n
}

/** A table id from the clip's and the detector's names (`vtest.avi`, coco-ssd → `vtest-ssd`). */
export function clipTableId(video: string, detector: DetectorName): string {
  const stem = basename(video, extname(video))
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .slice(0, 56)
  return `${stem || 'video'}-${detector === 'coco-ssd' ? 'ssd' : detector}`
}

/** The demo's frames: every `every`th of the video as numbered PPM files for the agent's files source. */
async function writeVideoFrames(source: FrameSource, dir: string, frames: number, every: number) {
  const indices = Array.from({ length: frames }, (_, i) => i * every)
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  const files: string[] = []
  const header = Buffer.from(`P6\n${source.width} ${source.height}\n255\n`, 'latin1')
  for await (const f of source.frames(indices)) {
    const file = join(dir, `${String(files.length + 1).padStart(5, '0')}-frame${f.index}.ppm`)
    writeFileSync(file, Buffer.concat([header, f.image.data]))
    files.push(file)
  }
  return { name: source.name, width: source.width, height: source.height, indices, files }
}

/** The agent's buffer and what it keeps beside it (the saved remote config among them): a run starts afresh. */
function removeScratchBuffer(path: string): void {
  for (const f of [path, `${path}-wal`, `${path}-shm`, `${path}.reserve`, `${path}.seq`, savedConfigPath(path)])
    rmSync(f, { force: true })
}

interface FrameRecord {
  seq: number
  /** The frame's index in the video. */
  frame: number
  bytes: number
  tableId: string
  /** The keep map its metadata names, when it was encoded with one. */
  keepMap?: string
  /** What the detector found in the received frame. */
  detections: Detection[]
  /** ... and in the original frame: the reference. */
  reference: Detection[]
  counts: Counts
}

/** The tables and map the backend pushes, and what the device said. */
interface Push {
  table: TableFile
  map: KeepMap
  keepMapApplied: boolean
}

async function runVideoDemo(args: VideoArgs, teardown: Teardown): Promise<number> {
  const local = loadLocalConfig({ file: args.config, env: process.env })
  const log = createLogger({ level: local.config.log.level })
  const data = resolve(args.data)
  const source = videoSource(args.video)
  const last = (args.frames - 1) * args.every
  if (last >= source.count)
    throw new UsageError(
      `--frames ${args.frames} --every ${args.every} needs ${last + 1} frames; ${source.name} has ${source.count}`,
    )
  // The detector next: a missing model cache stops the demo before anything runs.
  const detector = await loadDetector(args.detector, { modelDir: args.modelDir })
  teardown.add(async () => detector.dispose())
  const decode = sharpDecoder()
  console.log(`deepn demo --video: decoding ${args.frames} frames (every ${args.every}) of ${args.video} with ffmpeg`)
  const framesDir = join(data, 'video-frames')
  // 1.3 MB a frame at 768x576: the folder goes when the demo ends, the stored JPEGs stay
  teardown.add(async () => rmSync(framesDir, { recursive: true, force: true }))
  const clip = await writeVideoFrames(source, framesDir, args.frames, args.every)

  let broker: Awaited<ReturnType<typeof startBroker>> | undefined
  let url = local.config.mqtt.url
  if (!url) {
    broker = await startBroker(args.port)
    teardown.add(() => broker!.close())
    url = `mqtt://127.0.0.1:${broker.port}`
  }
  const protocol = broker ? '3.1.1' : undefined // aedes speaks 3.1.1 only
  // The user's configuration below the demo's capture and buffer: the seq → frame mapping depends on them.
  const bufferPath = join(data, 'video-buffer.db')
  const demo = validatePartial(
    {
      mqtt: { url, ...(protocol ? { protocol } : {}) },
      buffer: { path: bufferPath },
      capture: {
        source: 'files',
        filesDir: framesDir,
        filesLoop: false,
        width: clip.width,
        height: clip.height,
        intervalMs: args.intervalMs,
        maxFrames: args.frames,
      },
    },
    { remote: false },
  )
  const layers = fromLayers(mergePartials(local.local, demo))
  const c = layers.config
  const received = join(data, 'video-received')
  rmSync(received, { recursive: true, force: true })
  removeScratchBuffer(bufferPath)

  const { receiver, failed } = await startDemoReceiver(
    {
      url,
      protocol: c.mqtt.protocol,
      out: received,
      prefix: c.mqtt.prefix,
      // its own session, gone when it disconnects: a broker must not replay an earlier run's frames into this one
      clientId: `deepn-demo-receiver-${process.pid}`,
      sessionExpirySec: 0,
      summaryIntervalMs: 0,
      log: (l) => log.child('receiver').info(l),
    },
    teardown,
  )

  // The backend's own client: publishes detection results and the config push, hears the device's answers.
  const backend = await mqtt.connectAsync(url, {
    clientId: `deepn-demo-backend-${process.pid}`,
    protocolVersion: protocol === '3.1.1' ? 4 : 5,
    reconnectPeriod: 1000,
  })
  teardown.add(() => backend.endAsync())
  const device = c.deviceId
  const prefix = c.mqtt.prefix
  const answers = new ConfigAnswers(
    backend,
    topic(prefix, device, Leaf.configSet),
    topic(prefix, device, Leaf.configResult),
  )
  await answers.ready

  const agent = createAgent(layers, log)
  teardown.add(() => agent.stop())
  console.log(
    [
      `deepn demo --video: ${broker ? 'in-process broker' : 'broker'} at ${redactUrl(url)}; device '${device}'; ${clip.files.length} frames of ${clip.name} (${clip.width}x${clip.height}) every ${args.intervalMs} ms`,
      `  results on ${topic(prefix, device, Leaf.results)}; learning after ${args.learn} frames`,
    ].join('\n'),
  )

  const records: FrameRecord[] = []
  const seen = new Set<number>()
  let push: Push | undefined
  let chain: Promise<void> = Promise.resolve()
  let lastProgress = Date.now()
  let finish!: () => void
  let fail!: (err: Error) => void
  const finished = new Promise<void>((res, rej) => {
    finish = res
    fail = rej
  })
  finished.catch(() => undefined)

  const handle = async (e: FrameEvent): Promise<void> => {
    const jpg = await readFile(e.file!)
    const meta = readFrameMetadata(jpg)
    if (!meta) throw new Error(`${e.file}: no DEEPN metadata segment`)
    const file = clip.files[meta.seq - 1]
    if (!file) throw new Error(`seq ${meta.seq} has no frame: the agent's buffer was not fresh`)
    const started = performance.now()
    const detections = await detector.detect(await decode(jpg))
    const inferenceMs = performance.now() - started
    await backend.publishAsync(
      topic(prefix, device, Leaf.results),
      buildDetectionResult({
        seq: meta.seq,
        deviceId: device,
        capturedAt: meta.capturedAt,
        tableId: meta.tableId,
        quantDigest: meta.quantDigest ?? '',
        model: args.detector,
        inferenceMs: Math.round(inferenceMs * 100) / 100,
        detections,
      }),
      { qos: 1 },
    )
    const reference = await detector.detect(readOriginal(file))
    const counts = matchFrame(reference, detections)
    const r: FrameRecord = {
      seq: meta.seq,
      frame: clip.indices[meta.seq - 1],
      bytes: jpg.length,
      tableId: meta.tableId,
      keepMap: meta.keepMap,
      detections,
      reference,
      counts,
    }
    records.push(r)
    console.log(
      `  seq ${r.seq} (frame ${r.frame}): ${r.bytes} B, table ${r.tableId}${r.keepMap ? ` + map ${r.keepMap}` : ''}; ${detections.length} objects (original ${reference.length}), F1 ${prf(counts).f1.toFixed(3)}`,
    )
    if (records.length === args.learn) {
      push = await learnAndPush(records.slice(0, args.learn))
      console.log(`  frames encoded with ${push.table.id} from now on count as 'after'`)
    }
  }

  const learnAndPush = async (first: FrameRecord[]): Promise<Push> => {
    const t0 = Date.now()
    const map = learnKeepMap(
      first.map((r) => ({ width: clip.width, height: clip.height, detections: r.detections })),
      { id: `${clipTableId(args.video, args.detector)}-map`, ...mapGrid(clip.width, clip.height), keep: args.keep },
    ).map
    const busy = [...map.levels].filter((l) => l !== '0').length
    console.log(
      `deepn demo --video: learned map ${map.id} (${map.cols}x${map.rows} cells, ${busy} where objects were, keep ${map.keep.join('/')}) from ${first.length} frames' detections`,
    )
    const table = args.table ? parseTableFile(readFileSync(args.table, 'utf8'), args.table) : await searchTable(first)
    console.log(
      `deepn demo --video: table ${table.id} ${args.table ? `from ${args.table}` : `searched on ${first.length} originals`} (${JSON.stringify(tableParams(table))}); ${((Date.now() - t0) / 1000).toFixed(1)} s`,
    )
    const encoder: Record<string, unknown> = {
      tables: { [table.id]: { luma: [...table.luma], chroma: [...table.chroma] } },
      table: table.id,
      optimizeHuffman: true,
      keepMap: map,
    }
    let answer = await answers.request({ encoder })
    printAnswer(answer)
    let keepMapApplied = answer.status === 'ok'
    if (answer.status === 'error' && /keepMap/.test(answer.error)) {
      console.log('deepn demo --video: the agent refused encoder.keepMap; pushing the table alone')
      const { keepMap: _, ...tableOnly } = encoder
      answer = await answers.request({ encoder: tableOnly })
      printAnswer(answer)
      keepMapApplied = false
    }
    if (answer.status === 'error') throw new Error(`the agent refused the table push: ${answer.error}`)
    return { table, map, keepMapApplied }
  }

  /**
   * The detector-tuned table: a small tilt search on the learning frames' originals (all of them: on fewer, the
   * coarsest scale that reaches the target there falls well short of it on the frames that follow).
   */
  const searchTable = async (first: FrameRecord[]): Promise<TableFile> => {
    const calibration: CalibrationFrame[] = first.map((r) => ({
      index: r.frame,
      image: readOriginal(clip.files[r.seq - 1]),
      references: [r.reference],
    }))
    const id = clipTableId(args.video, args.detector)
    const provenance = {
      detector: DETECTOR_INFO[args.detector].description,
      calibratedOn: `${clip.name} frames ${calibration.map((f) => f.index).join(',')}`,
      targetF1: args.targetF1,
    }
    try {
      const r = await searchTiltTable(
        calibration,
        { detect: [(img) => detector.detect(img)], decode, encode: ourEncoder() },
        { ...DEFAULT_TILT_SEARCH, ...SEARCH, scales: args.scales, targetF1: args.targetF1 },
      )
      const won = r.trials.filter((x) => x.tilt === r.best.tilt && x.chroma === r.best.chroma)
      console.log(
        `deepn demo --video: search (${r.trials.length} trials): tilt ${r.best.tilt}, chroma ${r.best.chroma}: ${won
          .map((x) => `scale ${x.scale} ${Math.round(x.meanBytes)} B F1 ${x.f1.toFixed(3)}`)
          .join('; ')} on the learning frames`,
      )
      return detectorTableFile(id, r, provenance)
    } catch (err) {
      if (!/no candidate reached/.test(errorMessage(err))) throw err
      // Nothing reached the target at these scales: the finest plain candidate, so the loop still completes.
      const scale = Math.min(...args.scales)
      console.log(
        `deepn demo --video: no table reached F1 ${args.targetF1} on the learning frames; pushing tilt 0, chroma 1, scale ${scale}`,
      )
      return tiltTableFile(id, { tilt: 0, chroma: 1, scale }, provenance)
    }
  }

  receiver.on('frame', (e: FrameEvent) => {
    if (e.deviceId !== device || e.duplicate || !e.file || seen.has(e.seq)) return
    seen.add(e.seq)
    chain = chain
      .then(() => handle(e))
      .then(() => {
        lastProgress = Date.now()
        if (records.length >= args.frames) finish()
      })
      .catch((err: unknown) => fail(err instanceof Error ? err : new Error(String(err))))
  })
  const stall = setInterval(() => {
    if (Date.now() - lastProgress > STALL_MS)
      fail(new Error(`no frame handled for ${STALL_MS / 1000} s (${records.length} of ${args.frames} so far)`))
  }, 1000)
  stall.unref()
  teardown.add(async () => clearInterval(stall))

  const signalled = stopOnSignals(agent, log)
  await agent.start()
  await Promise.race([finished, signalled, failed])
  await teardown.run()
  console.log(summary(records, push, clip.name, args))
  return 0
}

/** The device's answer to one config/set, matched by request id. */
class ConfigAnswers {
  readonly ready: Promise<unknown>
  private readonly waiting = new Map<string, (r: ConfigResult) => void>()

  constructor(
    private readonly client: MqttClient,
    private readonly setTopic: string,
    resultTopic: string,
  ) {
    client.on('message', (t, payload) => {
      if (t !== resultTopic) return
      let r: ConfigResult
      try {
        r = parseConfigResult(payload)
      } catch {
        return // not an answer this demo can read: someone else's
      }
      const resolve = r.id === null ? undefined : this.waiting.get(r.id)
      if (resolve) resolve(r)
    })
    this.ready = client.subscribeAsync(resultTopic, { qos: 1 })
  }

  request(config: Record<string, unknown>): Promise<ConfigResult> {
    const id = `demo-${randomUUID().slice(0, 8)}`
    const body = buildConfigSet(id, config)
    console.log(`deepn demo --video: config/set ${id} (${body.length} B): ${describeRequest(config)}`)
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id)
        reject(new Error(`no config/result for request ${id} within ${CONFIG_TIMEOUT_MS / 1000} s`))
      }, CONFIG_TIMEOUT_MS)
      this.waiting.set(id, (r) => {
        clearTimeout(timer)
        this.waiting.delete(id)
        resolve(r)
      })
      this.client.publishAsync(this.setTopic, body, { qos: 1 }).catch((err) => {
        clearTimeout(timer)
        this.waiting.delete(id)
        reject(err)
      })
    })
  }
}

function describeRequest(config: Record<string, unknown>): string {
  const enc = config.encoder as Record<string, unknown>
  return Object.keys(enc)
    .map((k) => `encoder.${k}`)
    .join(', ')
}

function printAnswer(r: ConfigResult): void {
  console.log(
    r.status === 'ok'
      ? `deepn demo --video: config/result ${r.id}: applied ${r.data.applied.join(', ') || '(no change)'}`
      : `deepn demo --video: config/result ${r.id}: refused: ${r.error}`,
  )
}

function tableParams(t: TableFile): Record<string, unknown> {
  const s = t.source ?? {}
  return 'tilt' in s ? { tilt: s.tilt, chroma: s.chroma, scale: s.scale } : { luma0: t.luma[0], chroma0: t.chroma[0] }
}

function readOriginal(file: string): RawImage {
  return decodeImageFile(readFileSync(file), file)
}

/** The before/after table: frames, mean bytes, F1 against the originals' detections, and the ratio. */
function summary(records: readonly FrameRecord[], push: Push | undefined, clip: string, args: VideoArgs): string {
  const pushed = push?.table.id
  // `<id>*<factor>`: the same table re-encoded coarser to fit the payload limit, still after the push
  const isAfter = (r: FrameRecord) => pushed !== undefined && r.tableId.split('*')[0] === pushed
  const groups = [
    { name: 'before', frames: records.filter((r) => !isAfter(r)) },
    { name: 'after', frames: records.filter(isAfter) },
  ]
  const lines = [
    '',
    `deepn demo --video: ${records.length} frames of ${clip} (every ${args.every}), detector ${args.detector}; F1 against the detections on the original frames`,
  ]
  const stats = groups.map((g) => {
    const counts = sumCounts(g.frames.map((r) => r.counts))
    const bytes = g.frames.reduce((s, r) => s + r.bytes, 0)
    return {
      ...g,
      counts,
      meanBytes: g.frames.length ? bytes / g.frames.length : NaN,
      f1: prf(counts).f1,
      reference: g.frames.reduce((s, r) => s + r.reference.filter((d) => d.score >= 0.5).length, 0),
      tables: [...new Set(g.frames.map((r) => (r.keepMap ? `${r.tableId} + map ${r.keepMap}` : r.tableId)))].join(', '),
    }
  })
  for (const s of stats) {
    if (s.frames.length === 0) {
      lines.push(`  ${s.name.padEnd(6)}  0 frames`)
      continue
    }
    lines.push(
      `  ${s.name.padEnd(6)} ${String(s.frames.length).padStart(3)} frames  ${Math.round(s.meanBytes)
        .toString()
        .padStart(
          7,
        )} B/frame  F1 ${s.f1.toFixed(3)} (tp ${s.counts.tp}, fp ${s.counts.fp}, fn ${s.counts.fn}; ${s.reference} objects in the originals)  tables ${s.tables}`,
    )
  }
  const [before, after] = stats
  if (!push) lines.push('  no push: fewer frames than --learn were handled')
  else {
    lines.push(
      `  pushed: table ${push.table.id} + optimal Huffman${push.keepMapApplied ? ` + importance map ${push.map.id}` : ` (importance map ${push.map.id} refused by this agent)`}`,
    )
    if (after.frames.length === 0)
      lines.push(
        '  no frame was encoded after the push: raise --frames or --interval-ms (the backend could not keep up)',
      )
    else if (before.frames.length > 0)
      lines.push(
        `  after/before: ${(after.meanBytes / before.meanBytes).toFixed(3)}x the bytes (${(before.meanBytes / after.meanBytes).toFixed(2)}x smaller), F1 ${after.f1 >= before.f1 ? '+' : ''}${(after.f1 - before.f1).toFixed(3)}`,
      )
  }
  return lines.join('\n')
}
