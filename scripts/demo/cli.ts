/**
 * `deepn demo` (what `npm start` runs): the agent on embedded defaults (synthetic camera) + an in-process MQTT
 * broker (aedes, when no broker URL is configured) + the reference receiver writing the frames into
 * ./data/received — one command shows frames flowing end to end. Runs until Ctrl-C, or `--frames N` /
 * `--seconds N`.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { gunzipSync } from 'node:zlib'
import { join, resolve } from 'node:path'
import { fromLayers, loadLocalConfig } from '../../agent/config-file'
import { createAgent, stopOnSignals } from '../../agent/commands/run'
import { numberOption, parseOptions, UsageError } from '../../agent/cli-args'
import { createLogger } from '../../agent/log'
import { validatePartial, ConfigError, mergePartials } from '../../shared/config'
import { parseIdx } from '../../shared/deepn/idx'
import { redactUrl } from '../backend/receive/mqtt-session'
import { packageRoot } from '../../agent/package-root'
import { FMNIST_CLASSES, FMNIST_DIR } from '../eval/dataset'
import { startBroker } from './broker'
import { startDemoReceiver, Teardown } from './teardown'
import { isVideoDemo, main as videoDemo, VIDEO_USAGE } from './video'

const USAGE = `usage: deepn demo [--frames N] [--seconds N] [--port N] [--data DIR] [--model FILE.onnx] [--fmnist] [--config FILE]

Runs agent + in-process broker + receiver on embedded defaults. Without a broker URL (config 'mqtt.url' or
DEEPN_MQTT_URL) an in-process broker listens on 127.0.0.1 (port 1883, or a free one when taken).
Frames land in <data>/received/<deviceId>/<date>/<seq>.jpg (default data dir: ./data).
--fmnist replays Fashion-MNIST test images (Debian package dataset-fashion-mnist) through the agent with the
fmnist-deepn table and classifies every received frame with the shipped model (config/models/fmnist-cnn.onnx),
printing each image's true label and the accuracy so far (its scratch buffer <data>/fmnist-buffer.db starts
afresh on every run, so seq n is test image n-1).`

interface DemoArgs {
  frames?: number
  seconds?: number
  port?: number
  data: string
  model?: string
  config?: string
  fmnist?: boolean
}

const FMNIST_IMAGES = join(FMNIST_DIR, 't10k-images-idx3-ubyte.gz')
const FMNIST_SAMPLES = 200

/** Writes the first Fashion-MNIST test images as PGM files for the `files` source; returns the folder. */
function writeFmnistSamples(data: string): string {
  if (!existsSync(FMNIST_IMAGES))
    throw new ConfigError(`--fmnist needs ${FMNIST_IMAGES} (sudo apt-get install -y dataset-fashion-mnist)`)
  const idx = parseIdx(new Uint8Array(gunzipSync(readFileSync(FMNIST_IMAGES))))
  const [count, h, w] = idx.dims
  const dir = join(data, 'fmnist-samples')
  mkdirSync(dir, { recursive: true })
  for (let i = 0; i < Math.min(count, FMNIST_SAMPLES); i++) {
    const header = Buffer.from(`P5\n${w} ${h}\n255\n`, 'latin1')
    writeFileSync(
      join(dir, `${String(i).padStart(4, '0')}.pgm`),
      Buffer.concat([header, idx.data.subarray(i * w * h, (i + 1) * w * h)]),
    )
  }
  return dir
}

function parseDemoArgs(argv: string[]): DemoArgs | 'help' {
  const { values: o } = parseOptions({
    args: argv,
    options: {
      frames: { type: 'string' },
      seconds: { type: 'string' },
      port: { type: 'string' },
      data: { type: 'string' },
      model: { type: 'string' },
      config: { type: 'string' },
      fmnist: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  })
  if (o.help) return 'help'
  for (const name of ['data', 'model', 'config'] as const)
    if (o[name] === '') throw new UsageError(`--${name} needs a ${name === 'data' ? 'directory' : 'file'}`)
  return {
    frames: numberOption('--frames', o.frames, { integer: true, min: 0 }),
    seconds: numberOption('--seconds', o.seconds, { integer: true, min: 0 }),
    port: numberOption('--port', o.port, { integer: true, min: 0, max: 65535 }), // 0 picks any free port
    data: o.data ?? 'data',
    model: o.model,
    config: o.config,
    fmnist: o.fmnist,
  }
}

export async function main(argv: string[]): Promise<number> {
  if (isVideoDemo(argv)) return videoDemo(argv)
  const args = parseDemoArgs(argv)
  if (args === 'help') {
    console.log(`${USAGE}\n\n${VIDEO_USAGE}`)
    return 0
  }
  const local = loadLocalConfig({ file: args.config, env: process.env })
  const teardown = new Teardown()
  try {
    return await runDemo(args, local, teardown)
  } finally {
    // A fatal error (port in use, a model that does not load, …) must not leave the broker listening: the
    // process would print the error and hang until Ctrl-C.
    await teardown.run()
  }
}

async function runDemo(args: DemoArgs, local: ReturnType<typeof loadLocalConfig>, teardown: Teardown): Promise<number> {
  const log = createLogger({ level: local.config.log.level })
  const data = resolve(args.data)
  const model = args.model ?? (args.fmnist ? join(packageRoot(), 'config/models/fmnist-cnn.onnx') : undefined)
  if (model && !existsSync(model)) throw new UsageError(`--model ${model}: no such file`)
  let broker: Awaited<ReturnType<typeof startBroker>> | undefined
  let url = local.config.mqtt.url
  if (!url) {
    broker = await startBroker(args.port)
    teardown.add(() => broker!.close())
    url = `mqtt://127.0.0.1:${broker.port}`
  }
  // aedes speaks MQTT 3.1.1 only: say so rather than have both clients log a refused MQTT 5 first
  const protocol = broker ? '3.1.1' : undefined
  // Demo defaults on top of the schema's, below anything the user configured.
  const fmnist = args.fmnist
    ? {
        capture: { source: 'files', filesDir: writeFmnistSamples(data), width: 28, height: 28, intervalMs: 200 },
        encoder: { table: 'fmnist-deepn' },
      }
    : {}
  const demo = validatePartial(
    {
      mqtt: { url, ...(protocol ? { protocol } : {}) },
      buffer: { path: join(data, args.fmnist ? FMNIST_BUFFER : 'demo-buffer.db') },
      ...fmnist,
      ...(args.frames ? { capture: { ...fmnist.capture, maxFrames: args.frames } } : {}),
    },
    { remote: false },
  )
  const layers = fromLayers(mergePartials(demo, mergePartials(local.local, { 'mqtt.url': url })))
  const c = layers.config
  // The receiver (which loads the model) before the agent: a model that does not load stops the demo before
  // anything was captured.
  const { receiver, failed } = await startDemoReceiver(
    {
      url,
      protocol: c.mqtt.protocol,
      out: join(data, 'received'),
      prefix: c.mqtt.prefix,
      model,
      summaryIntervalMs: 10000,
      log: (l) => log.child('receiver').info(l),
    },
    teardown,
  )
  // The --fmnist demo replays from seq 1 in its own scratch buffer, so seq n is test image n-1 (its true label).
  const scratch = args.fmnist && c.buffer.path === join(data, FMNIST_BUFFER)
  if (scratch) removeBuffer(c.buffer.path)
  const agent = createAgent(layers, log)
  teardown.add(() => agent.stop())

  const unique = new Set<number>()
  let done: () => void = () => {}
  const finished = new Promise<void>((r) => {
    done = r
  })
  receiver.on('frame', (e: { deviceId: string; seq: number }) => {
    if (e.deviceId === c.deviceId) unique.add(e.seq)
    if (args.frames && unique.size >= args.frames) done()
  })
  if (args.seconds) setTimeout(done, args.seconds * 1000).unref()
  if (model) {
    const truth = scratch ? fmnistTruth() : undefined
    let right = 0,
      total = 0
    receiver.on('result', (r: { seq: number; label: string; score: number }) => {
      let line = `  seq ${r.seq}: ${r.label} (${(r.score * 100).toFixed(1)} %)`
      const label = truth?.(r.seq)
      if (label !== undefined) {
        total++
        if (label === r.label) right++
        line += `, true label ${label} ${label === r.label ? '✓' : '✗'}; accuracy so far ${right}/${total} (${((100 * right) / total).toFixed(1)} %)`
      }
      console.log(line)
    })
  }
  const [host, port] = url
    .replace(/^mqtts?:\/\//, '')
    .replace(/^[^@]*@/, '')
    .split(':')
  const sub = `mosquitto_sub -h ${host} -p ${port ?? 1883}`
  const p = c.mqtt.prefix
  console.log(
    [
      '',
      `deepn demo: ${broker ? 'in-process broker' : 'broker'} at ${redactUrl(url)}; device '${c.deviceId}'`,
      `  watch the messages:  ${sub} -t '${p}/+/status' -t '${p}/+/telemetry' -t '${p}/+/config' -t '${p}/+/results' -v`,
      `  frame sizes:         ${sub} -t '${p}/+/frames' -F '%t %l bytes'`,
      `  frames land in:      ${join(data, 'received', c.deviceId)}/`,
      `  change the config:   mosquitto_pub -h ${host} -p ${port ?? 1883} -t '${p}/${c.deviceId}/config/set' -m '{"id":"1","config":{"capture":{"width":320,"height":240}}}'`,
      args.frames || args.seconds ? '' : '  Ctrl-C to stop.',
      '',
    ].join('\n'),
  )

  const signalled = stopOnSignals(agent, log)
  await agent.start()
  await Promise.race([finished, signalled, failed])
  await teardown.run()
  console.log(`deepn demo: ${unique.size} frames received into ${join(data, 'received', c.deviceId)}/`)
  return 0
}

const FMNIST_BUFFER = 'fmnist-buffer.db'
const FMNIST_LABELS = join(FMNIST_DIR, 't10k-labels-idx1-ubyte.gz')

/** seq → true class name of the replayed test image (the files source loops over FMNIST_SAMPLES images). */
function fmnistTruth(): ((seq: number) => string | undefined) | undefined {
  if (!existsSync(FMNIST_LABELS)) return undefined
  const labels = parseIdx(new Uint8Array(gunzipSync(readFileSync(FMNIST_LABELS)))).data
  const n = Math.min(labels.length, FMNIST_SAMPLES)
  return (seq) => FMNIST_CLASSES[labels[(seq - 1) % n]]
}

/** The --fmnist demo's own scratch buffer (never the agent's), so its seqs start at 1 on every run. */
function removeBuffer(path: string): void {
  for (const f of [path, `${path}-wal`, `${path}-shm`]) rmSync(f, { force: true })
}
