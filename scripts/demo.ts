/**
 * `deepn demo` (what `npm start` runs): the agent on embedded defaults (synthetic camera) + an in-process MQTT
 * broker (aedes, when no broker URL is configured) + the reference receiver writing the frames into
 * ./data/received — one command shows frames flowing end to end. Runs until Ctrl-C, or `--frames N` /
 * `--seconds N`.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { gunzipSync } from 'node:zlib'
import { join, resolve } from 'node:path'
import { fromLayers, loadLocalConfig } from '../agent/config-file'
import { createAgent, stopOnSignals } from '../agent/commands/run'
import { UsageError } from '../agent/cli-args'
import { createLogger, errorMessage } from '../agent/log'
import { validatePartial, ConfigError, mergePartials } from '../shared/config'
import { parseIdx } from '../shared/deepn/idx'
import { startReceiver } from './receive/receiver'

const USAGE = `usage: deepn demo [--frames N] [--seconds N] [--port N] [--data DIR] [--model FILE.onnx] [--fmnist] [--config FILE]

Runs agent + in-process broker + receiver on embedded defaults. Without a broker URL (config 'mqtt.url' or
DEEPN_MQTT_URL) an in-process broker listens on 127.0.0.1 (port 1883, or a free one when taken).
Frames land in <data>/received/<deviceId>/<date>/<seq>.jpg (default data dir: ./data).
--fmnist replays Fashion-MNIST test images (Debian package dataset-fashion-mnist) through the agent with the
fmnist-deepn table and classifies every received frame with the shipped model (config/models/fmnist-cnn.onnx).`

interface DemoArgs { frames?: number; seconds?: number; port?: number; data: string; model?: string; config?: string; fmnist?: boolean }

const FMNIST_IMAGES = '/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz'
const FMNIST_SAMPLES = 200

/** This package's root, from the sources (scripts/) or the build (dist/scripts/). */
function packageRoot(): string {
  const fromSource = resolve(__dirname, '..')
  return existsSync(join(fromSource, 'package.json')) ? fromSource : resolve(__dirname, '../..')
}

/** Writes the first Fashion-MNIST test images as PGM files for the `files` source; returns the folder. */
function writeFmnistSamples(data: string): string {
  if (!existsSync(FMNIST_IMAGES)) throw new ConfigError(`--fmnist needs ${FMNIST_IMAGES} (sudo apt-get install -y dataset-fashion-mnist)`)
  const idx = parseIdx(new Uint8Array(gunzipSync(readFileSync(FMNIST_IMAGES))))
  const [count, h, w] = idx.dims
  const dir = join(data, 'fmnist-samples')
  mkdirSync(dir, { recursive: true })
  for (let i = 0; i < Math.min(count, FMNIST_SAMPLES); i++) {
    const header = Buffer.from(`P5\n${w} ${h}\n255\n`, 'latin1')
    writeFileSync(join(dir, `${String(i).padStart(4, '0')}.pgm`), Buffer.concat([header, idx.data.subarray(i * w * h, (i + 1) * w * h)]))
  }
  return dir
}

function parseArgs(argv: string[]): DemoArgs | 'help' {
  const out: DemoArgs = { data: 'data' }
  const num = (name: string, v: string | undefined): number => {
    const n = Number(v)
    if (!v || !Number.isInteger(n) || n < 0) throw new UsageError(`${name} needs a non-negative integer, got ${v ?? 'nothing'}`)
    return n
  }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    switch (a) {
      case '--help': case '-h': return 'help'
      case '--frames': out.frames = num(a, argv[++i]); break
      case '--seconds': out.seconds = num(a, argv[++i]); break
      case '--port': out.port = num(a, argv[++i]); break
      case '--data': out.data = argv[++i] ?? ''; if (!out.data) throw new UsageError('--data needs a directory'); break
      case '--model': out.model = argv[++i]; if (!out.model) throw new UsageError('--model needs a file'); break
      case '--config': out.config = argv[++i]; if (!out.config) throw new UsageError('--config needs a file'); break
      case '--fmnist': out.fmnist = true; break
      default: throw new UsageError(`unknown option '${a}'`)
    }
  }
  return out
}

async function startBroker(port: number | undefined): Promise<{ port: number; close(): Promise<void> }> {
  const { Aedes } = require('aedes') as typeof import('aedes')
  const broker = await Aedes.createBroker()
  const listen = (p: number): Promise<Server> => new Promise((res, rej) => {
    const srv = createServer(broker.handle)
    srv.once('error', rej)
    srv.listen(p, '127.0.0.1', () => res(srv))
  })
  let srv: Server
  try {
    srv = await listen(port ?? 1883)
  } catch (err) {
    if (port !== undefined) throw err
    srv = await listen(0) // 1883 is taken (a local Mosquitto?): any free port
  }
  return {
    port: (srv.address() as { port: number }).port,
    close: () => new Promise((res) => { broker.close(() => srv.close(() => res())) }),
  }
}

export async function main(argv: string[]): Promise<number> {
  const args = parseArgs(argv)
  if (args === 'help') { console.log(USAGE); return 0 }
  const local = loadLocalConfig({ file: args.config, env: process.env })
  const log = createLogger({ level: local.config.log.level })
  const data = resolve(args.data)
  let broker: Awaited<ReturnType<typeof startBroker>> | undefined
  let url = local.config.mqtt.url
  if (!url) {
    broker = await startBroker(args.port)
    url = `mqtt://127.0.0.1:${broker.port}`
  }
  // Demo defaults on top of the schema's, below anything the user configured.
  const fmnist = args.fmnist ? { capture: { source: 'files', filesDir: writeFmnistSamples(data), width: 28, height: 28, intervalMs: 200 }, encoder: { table: 'fmnist-deepn' } } : {}
  const model = args.model ?? (args.fmnist ? join(packageRoot(), 'config/models/fmnist-cnn.onnx') : undefined)
  const demo = validatePartial({
    mqtt: { url },
    buffer: { path: join(data, 'demo-buffer.db') },
    ...fmnist,
    ...(args.frames ? { capture: { ...fmnist.capture, maxFrames: args.frames } } : {}),
  }, { remote: false })
  const agent = createAgent(fromLayers(mergePartials(demo, mergePartials(local.local, { 'mqtt.url': url }))), log)
  const c = agent.config
  const receiver = await startReceiver({ url, out: join(data, 'received'), prefix: c.mqtt.prefix, model, summaryIntervalMs: 10000, log: (l) => log.child('receiver').info(l) })
  await receiver.subscribed

  const unique = new Set<number>()
  let done: () => void = () => {}
  const finished = new Promise<void>((r) => { done = r })
  receiver.on('frame', (e: { deviceId: string; seq: number }) => {
    if (e.deviceId === c.deviceId) unique.add(e.seq)
    if (args.frames && unique.size >= args.frames) done()
  })
  if (args.seconds) setTimeout(done, args.seconds * 1000).unref()
  if (model) {
    receiver.on('result', (r: { seq: number; label: string; score: number }) => console.log(`  seq ${r.seq}: ${r.label} (${(r.score * 100).toFixed(1)} %)`))
  }
  const [host, port] = url.replace(/^mqtts?:\/\//, '').split(':')
  console.log([
    '',
    `deepn demo: ${broker ? 'in-process broker' : 'broker'} at ${url}; device '${c.deviceId}'`,
    `  watch the messages:  mosquitto_sub -h ${host} -p ${port ?? 1883} -t '${c.mqtt.prefix}/#' -v`,
    `  frames land in:      ${join(data, 'received', c.deviceId)}/`,
    `  change the config:   mosquitto_pub -h ${host} -p ${port ?? 1883} -t '${c.mqtt.prefix}/${c.deviceId}/config/set' -m '{"id":"1","config":{"capture":{"width":320,"height":240}}}'`,
    args.frames || args.seconds ? '' : '  Ctrl-C to stop.',
    '',
  ].join('\n'))

  const signalled = stopOnSignals(agent, log)
  await agent.start()
  await Promise.race([finished, signalled])
  await agent.stop()
  await receiver.close()
  await broker?.close()
  console.log(`deepn demo: ${unique.size} frames received into ${join(data, 'received', c.deviceId)}/`)
  return 0
}
