/**
 * Receiver throughput benchmark (offline; `npm run bench:receive`). One local Mosquitto; per round, FRAMES
 * 640x480 JPEG frames (QoS 1) from two publishers are consumed by (a) `mosquitto_sub` writing to /dev/null — the
 * broker + transport ceiling, same run, same machine — and by the receiver storing each frame durably before its
 * PUBACK: (b) in the default folders layout (a file per frame, made durable through its journal), (c) in the shards
 * layout (appended to a tar shard, synced per batch), (d) in the folders layout and classifying it with the shipped
 * Fashion-MNIST model. Two floors are measured in this process with no MQTT: (e) one file per frame (temp file,
 * write, rename; synchronous calls, the cheapest way from Node; no fsync), (f) the shards layout's bytes appended
 * in batches of 64 with an fdatasync each. Prints medians over rounds, the ratio of medians to (a) and the median
 * of each round's ratio to (a) in that round.
 *
 * Rates are taken between the first frame in and the last one handled (printed by mosquitto_sub; stored, resp.
 * classified, by the receiver). BENCH_MODE=live (default): the publishers run while the consumer reads, in a child process of their own for
 * both consumers (mosquitto_sub is a process of its own too; publishers inside this process would take CPU from
 * the in-process receiver only). BENCH_MODE=drain: each consumer first subscribes with a persistent
 * session and goes away, the frames are queued at the broker, and the clock runs from its reconnect until the last
 * frame is in: a backlog drained after an outage, with no publisher in the timed window for either consumer.
 *
 * The receiver rows also print this process's CPU time per frame over the timed window (the publishers are a
 * child process): on a loaded machine it moves less than frames/s. BENCH_BASELINE=<another build's
 * dist/scripts/backend/receive/receiver.js> adds that build's receiver as a row, run in the same rounds,
 * interleaved with this one: a before/after comparison a noisy machine cannot skew one way.
 *
 * The process restarts itself with the node flags `deepn receive` gets from the `deepn` command (a larger young
 * generation: agent/bin/deepn), so the receiver rows measure what a user runs; BENCH_NODE_DEFAULTS=1 runs
 * with Node's defaults instead.
 */
import { spawn, spawnSync } from 'node:child_process'
import {
  closeSync,
  promises as fsp,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import * as path from 'node:path'
import * as jpeg from 'jpeg-js'
import mqtt from 'mqtt'
import { metadataSegment } from '../../shared/codec/metadata'
import { startReceiver } from '../backend/receive/receiver'
import { type TarInput, tarMembers } from '../backend/receive/tar'
import { packagePath } from '../../agent/package-root'
import { freePort, waitForPort } from '../common/ports'

const FRAMES = Number(process.env.BENCH_FRAMES ?? 400)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const DRAIN = process.env.BENCH_MODE === 'drain'
const MODEL = packagePath('config', 'models', 'fmnist-cnn.onnx')
/** BENCH_ONLY=sub,files,appends,mqttjs,receive,shards,model runs a subset (e.g. to profile one consumer); the ratios need `sub`. */
const ONLY = new Set((process.env.BENCH_ONLY ?? 'sub,files,appends,mqttjs,receive,shards,model').split(','))
const BASELINE = process.env.BENCH_BASELINE

type StartReceiver = typeof startReceiver
/** The receiver rows: BENCH_ONLY key, row name, its options. */
const VARIANTS = [
  { key: 'receive', name: 'deepn receive', layout: 'folders', withModel: false },
  { key: 'shards', name: 'deepn receive --layout shards', layout: 'shards', withModel: false },
  { key: 'model', name: 'deepn receive --model', layout: 'folders', withModel: true },
] as const
type Variant = (typeof VARIANTS)[number]
interface Round {
  rate: number
  /** CPU time of this process per frame, microseconds (receivers only). */
  cpuUs?: number
  /** The broker's CPU time per frame over the same window, microseconds (the rows with MQTT). */
  brokerUs?: number
}

/** The broker's process id, for its CPU time (brokerCpuUs). */
let brokerPid: number | undefined
/** Clock ticks per second of /proc's CPU times. */
const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout) || 100

/** The broker's user + system CPU time so far, microseconds (fields 14 and 15 of /proc/<pid>/stat). */
function brokerCpuUs(): number {
  const stat = readFileSync(`/proc/${brokerPid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ') // the name in parentheses may hold spaces
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / CLK_TCK
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'deepn-bench-receive-'))
  const port = await freePort()
  writeFileSync(
    path.join(dir, 'm.conf'),
    `listener ${port} 127.0.0.1\nallow_anonymous true\nmax_queued_messages 100000\n`,
  )
  const broker = spawn('/usr/sbin/mosquitto', ['-c', path.join(dir, 'm.conf')], { stdio: 'ignore' })
  brokerPid = broker.pid
  try {
    await waitForPort(port)
    const url = `mqtt://127.0.0.1:${port}`
    const body = sampleJpeg(640, 480)
    console.log(
      `receiver benchmark (${DRAIN ? 'drain a queued backlog' : 'live publishers'}): ${FRAMES} frames of ${(body.length / 1024).toFixed(1)} KiB (640x480), ${ROUNDS} rounds, tmp dir ${dir}, node ${process.execArgv.join(' ') || '(no flags)'}`,
    )
    const baseline: StartReceiver | undefined = BASELINE
      ? require(path.resolve(BASELINE)).startReceiver // another build's compiled receiver, named at run time
      : undefined
    const results: Record<string, Round[]> = {
      'mosquitto_sub > /dev/null': [],
      'files alone, no MQTT/fsync': [],
      'shard appends alone, no MQTT': [],
      'mqtt.js alone, no storage': [],
    }
    for (const v of VARIANTS) {
      results[v.name] = []
      results[`${v.name} (base)`] = []
    }
    for (let r = 0; r < ROUNDS; r++) {
      if (ONLY.has('sub')) results['mosquitto_sub > /dev/null'].push(await roundMosquittoSub(url, port, body, r))
      if (ONLY.has('files'))
        results['files alone, no MQTT/fsync'].push(roundFilesAlone(body, path.join(dir, `files${r}`)))
      if (ONLY.has('appends'))
        results['shard appends alone, no MQTT'].push(await roundAppendsAlone(body, path.join(dir, `appends${r}.tar`)))
      if (ONLY.has('mqttjs')) results['mqtt.js alone, no storage'].push(await roundMqttjsAlone(url, body, r))
      for (const v of VARIANTS) {
        if (!ONLY.has(v.key)) continue
        const ds = (tag: string): string => path.join(dir, `ds-${v.key}-${tag}${r}`)
        // Alternate which build goes first, so neither always meets the other's leftovers (page cache, dirty data).
        const runs: [string, StartReceiver, string][] = [[v.name, startReceiver, 'this']]
        if (baseline) runs.push([`${v.name} (base)`, baseline, 'base'])
        if (r % 2 === 1) runs.reverse()
        for (const [row, start, tag] of runs)
          results[row].push(await roundReceiver(start, url, body, ds(tag), `${r}${tag}${v.key}`, v))
      }
    }
    const subs = results['mosquitto_sub > /dev/null'].map((x) => x.rate)
    const base = median(subs)
    for (const [name, xs] of Object.entries(results)) {
      if (xs.length === 0) continue
      const m = median(xs.map((x) => x.rate))
      const cpu = xs[0].cpuUs === undefined ? '' : `  CPU ${median(xs.map((x) => x.cpuUs ?? 0)).toFixed(0)} us/frame`
      const brokerCpu =
        xs[0].brokerUs === undefined ? '' : `  broker ${median(xs.map((x) => x.brokerUs ?? 0)).toFixed(0)} us/frame`
      // Each round's rate over mosquitto_sub's in that round: the machine's drift between rounds cancels out.
      const paired =
        subs.length === xs.length ? `, per round ${median(xs.map((x, i) => x.rate / subs[i])).toFixed(2)}` : ''
      console.log(
        `${name.padEnd(36)} median ${m.toFixed(1)} frames/s  (${xs.map((x) => x.rate.toFixed(1)).join(', ')})  ratio ${(m / base).toFixed(2)}${paired}${cpu}${brokerCpu}`,
      )
    }
    printComposedFloor(results, base)
  } finally {
    broker.kill('SIGTERM')
    rmSync(dir, { recursive: true, force: true })
  }
}

/**
 * Derived, not measured: the rate of doing what the "mqtt.js alone" and "shard appends alone" rows do one after
 * the other for each frame (1 / (1/a + 1/b)). A durable receiver on mqtt.js beats it only by running the two at
 * once on different cores, which on a machine the broker and publishers keep busy it mostly cannot: it says how
 * far a target such as 0.8x of mosquitto_sub is from the cost of the parts.
 */
function printComposedFloor(results: Record<string, Round[]>, subRate: number): void {
  const mqttjs = results['mqtt.js alone, no storage']
  const appends = results['shard appends alone, no MQTT']
  if (mqttjs.length === 0 || appends.length === 0) return
  const serial = 1 / (1 / median(mqttjs.map((x) => x.rate)) + 1 / median(appends.map((x) => x.rate)))
  console.log(
    `${'derived: mqtt.js, then appends'.padEnd(36)} ${serial.toFixed(1)} frames/s  ratio ${(serial / subRate).toFixed(2)}  (the two rows one after the other; 0.8x of mosquitto_sub is ${(0.8 * subRate).toFixed(0)})`,
  )
  // The same parts as CPU: what running them at once on every core would need at 0.8x, against what there is.
  const parts = [mqttjs, appends].map((xs) => median(xs.map((x) => x.cpuUs ?? 0)))
  const broker = median(mqttjs.map((x) => x.brokerUs ?? 0))
  const need = parts[0] + parts[1] + broker
  const have = (availableParallelism() * 1e6) / (0.8 * subRate)
  console.log(
    `${'derived: CPU at 0.8x'.padEnd(36)} needs ${need.toFixed(0)} us/frame (mqtt.js ${parts[0].toFixed(0)} + appends ${parts[1].toFixed(0)} + broker ${broker.toFixed(0)}${DRAIN ? '' : ' + publishers, not counted'}), ${availableParallelism()} cores give ${have.toFixed(0)}`,
  )
}

/**
 * Throughput between the first frame in and the last one handled (FRAMES - 1 intervals): the publisher process's
 * start-up and the consumers' connect are outside the window for both consumers alike.
 */
const rate = (first: number, last: number): number => (FRAMES - 1) / ((last - first) / 1000)

async function roundMosquittoSub(url: string, port: number, body: Buffer, round: number): Promise<Round> {
  const common = ['-p', String(port), '-h', '127.0.0.1', '-q', '1', '-t', `bench${round}/+/frames`]
  const persistent = ['-c', '-i', `bench-sub-${round}`]
  if (DRAIN) {
    spawnSync('mosquitto_sub', [...common, ...persistent, '-E']) // subscribed, session kept, gone
    await publishAll(url, `bench${round}`, body)
  }
  // One line per message: its arrival time (Unix seconds with nanoseconds), nothing of the payload.
  const args = [...common, ...(DRAIN ? persistent : []), '-C', String(FRAMES), '-F', '%U']
  const broker0 = brokerCpuUs()
  const sub = spawn('mosquitto_sub', args, { stdio: ['ignore', 'pipe', 'inherit'] })
  let out = ''
  sub.stdout.on('data', (d: Buffer) => {
    out += d.toString()
  })
  const exited = new Promise<void>((resolve) => sub.once('exit', () => resolve()))
  if (!DRAIN) {
    await sleep(300) // subscribed
    await publishAll(url, `bench${round}`, body)
  }
  await exited
  const brokerUs = (brokerCpuUs() - broker0) / FRAMES
  const times = out
    .trim()
    .split('\n')
    .map((l) => Number(l) * 1000)
  if (times.length !== FRAMES) throw new Error(`mosquitto_sub printed ${times.length} of ${FRAMES} frames`)
  return { rate: rate(times[0], times[times.length - 1]), brokerUs }
}

/**
 * The floor under any receiver that stores one file per frame: creating the files alone (a new inode and a
 * directory entry each, then a rename), measured in the same run because it is the filesystem's cost and varies
 * with its state (44 and 167 us per frame in two runs minutes apart on this machine's ext4, where appending the
 * same bytes to one open file costs ~8 us).
 */
function roundFilesAlone(body: Buffer, dir: string): Round {
  for (const d of ['cam-a', 'cam-b']) mkdirSync(path.join(dir, d), { recursive: true })
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  for (let i = 0; i < FRAMES; i++) {
    const file = path.join(dir, i % 2 ? 'cam-b' : 'cam-a', `${String(i).padStart(8, '0')}.jpg`)
    const fd = openSync(`${file}.tmp`, 'w')
    writeSync(fd, body)
    closeSync(fd)
    renameSync(`${file}.tmp`, file)
  }
  const elapsed = performance.now() - t0
  const cpu = process.cpuUsage(cpu0)
  return { rate: FRAMES / (elapsed / 1000), cpuUs: (cpu.user + cpu.system) / FRAMES }
}

/**
 * The floor under the shards layout: the same bytes it writes per frame (tar header, JPEG, padding, header, index
 * line, padding), built as it builds them (tarMembers), appended to one file in batches of 64 with one fdatasync
 * each, through the same promise API, one batch after another, with no MQTT: what durable storage itself costs, measured in the same run.
 */
async function roundAppendsAlone(body: Buffer, file: string): Promise<Round> {
  const BATCH = 64
  const line = `${' '.repeat(299)}\n` // an index line's length, as text like the store's
  const fh = await fsp.open(file, 'wx')
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  try {
    let at = 0
    for (let i = 0; i < FRAMES; i += BATCH) {
      const members: TarInput[] = []
      for (let k = i; k < Math.min(i + BATCH, FRAMES); k++) {
        const key = String(k).padStart(12, '0')
        members.push({ name: `${key}.jpg`, data: Buffer.from(body) }, { name: `${key}.json`, data: line })
      }
      const { bytesWritten } = await fh.writev(tarMembers(members, 0), at)
      at += bytesWritten
      await fh.datasync()
    }
  } finally {
    await fh.close()
  }
  const elapsed = performance.now() - t0
  const cpu = process.cpuUsage(cpu0)
  return { rate: FRAMES / (elapsed / 1000), cpuUs: (cpu.user + cpu.system) / FRAMES }
}

/**
 * The ceiling of any receiver built on mqtt.js: the same library and session as the receiver's (QoS 1, persistent
 * session when draining), acknowledging each frame at once (mqtt.js's own PUBACK) and doing nothing else with it.
 */
async function roundMqttjsAlone(url: string, body: Buffer, round: number): Promise<Round> {
  const prefix = `bench${round}mqttjs`
  const filter = `${prefix}/+/frames`
  const options: mqtt.IClientOptions = {
    clientId: `bench-mqttjs-${round}`,
    clean: !DRAIN,
    protocolVersion: 5,
    properties: { sessionExpiryInterval: 600 },
    resubscribe: false,
  }
  if (DRAIN) {
    const c = await mqtt.connectAsync(url, options) // subscribed with a persistent session, then gone
    await c.subscribeAsync(filter, { qos: 1 })
    await c.endAsync()
    await publishAll(url, prefix, body)
  }
  let first = 0
  let last = 0
  let count = 0
  let cpu0 = process.cpuUsage()
  let broker0 = brokerCpuUs()
  // Listening before the session resumes: a draining broker sends the backlog right after CONNACK.
  const client = mqtt.connect(url, options)
  const done = new Promise<void>((resolve) =>
    client.on('message', () => {
      if (++count === 1) {
        first = performance.now()
        cpu0 = process.cpuUsage()
        broker0 = brokerCpuUs()
      }
      if (count === FRAMES) {
        last = performance.now()
        resolve()
      }
    }),
  )
  if (!DRAIN) {
    await new Promise<void>((resolve) => client.once('connect', () => resolve()))
    await client.subscribeAsync(filter, { qos: 1 })
    await publishAll(url, prefix, body)
  }
  await done
  const cpu = process.cpuUsage(cpu0)
  const brokerUs = (brokerCpuUs() - broker0) / (FRAMES - 1)
  await client.endAsync()
  return { rate: rate(first, last), cpuUs: (cpu.user + cpu.system) / (FRAMES - 1), brokerUs }
}

async function roundReceiver(
  start: StartReceiver,
  url: string,
  body: Buffer,
  out: string,
  round: string,
  { withModel, layout }: Variant,
): Promise<Round> {
  const prefix = `bench${round}`
  const options = {
    url,
    prefix,
    out,
    layout,
    clientId: `bench-${prefix}`,
    summaryIntervalMs: 0,
    log: () => {},
    model: withModel ? MODEL : undefined,
  }
  if (DRAIN) {
    const first = await start(options) // subscribed with a persistent session, then gone
    await first.subscribed
    await first.close()
    await publishAll(url, prefix, body)
  }
  const rx = await start(options)
  // From the first frame's arrival (not its storing: a batch stores many at once) to the last one stored.
  let first: number | undefined
  let cpu0 = process.cpuUsage()
  let broker0 = brokerCpuUs()
  rx.once('received', () => {
    first = performance.now()
    cpu0 = process.cpuUsage()
    broker0 = brokerCpuUs()
  })
  let stored = 0
  let last = 0
  const done = new Promise<void>((resolve) =>
    rx.on(withModel ? 'result' : 'frame', () => {
      if (++stored === FRAMES) {
        last = performance.now()
        resolve()
      }
    }),
  )
  if (!DRAIN) {
    await rx.subscribed
    await publishAll(url, prefix, body)
  }
  await done
  const cpu = process.cpuUsage(cpu0)
  const brokerUs = (brokerCpuUs() - broker0) / (FRAMES - 1)
  await rx.close()
  return { rate: rate(first!, last), cpuUs: (cpu.user + cpu.system) / (FRAMES - 1), brokerUs }
}

/** Two publishers, half the frames each, QoS 1, as fast as the broker takes them, in a child process. */
async function publishAll(url: string, prefix: string, body: Buffer): Promise<void> {
  const file = path.join(tmpdir(), `deepn-bench-body-${process.pid}.jpg`)
  writeFileSync(file, body)
  try {
    const child = spawn(process.execPath, [__filename, '--publish', url, prefix, file], { stdio: 'inherit' })
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve))
    if (code !== 0) throw new Error(`publisher process exited ${code}`)
  } finally {
    rmSync(file, { force: true })
  }
}

/** The child's side of publishAll. */
async function publishInThisProcess(url: string, prefix: string, body: Buffer): Promise<void> {
  await Promise.all(
    ['cam-a', 'cam-b'].map(async (deviceId) => {
      const c = await mqtt.connectAsync(url)
      const sends: Promise<unknown>[] = []
      for (let seq = 1; seq <= FRAMES / 2; seq++) {
        const meta = { seq, capturedAt: new Date().toISOString(), tableId: 'bench', deviceId, width: 640, height: 480 }
        sends.push(
          c.publishAsync(
            `${prefix}/${deviceId}/frames`,
            Buffer.concat([body.subarray(0, 2), metadataSegment(meta), body.subarray(2)]),
            { qos: 1 },
          ),
        )
      }
      await Promise.all(sends)
      await c.endAsync()
    }),
  )
}

function sampleJpeg(width: number, height: number): Buffer {
  const data = Buffer.alloc(width * height * 4)
  for (let i = 0, p = 0; p < width * height; p++, i += 4) {
    const x = p % width
    const y = (p / width) | 0
    data[i] = (x * 255) / width
    data[i + 1] = (y * 255) / height
    data[i + 2] = (x ^ y) & 0xff
    data[i + 3] = 255
  }
  return jpeg.encode({ width, height, data }, 75).data
}

/**
 * The node flags `deepn receive` starts with, asked of the command itself (agent/bin/deepn) through a `node` first
 * on PATH that prints its arguments: the receiver rows run in this process, which restarts itself with them.
 */
function receiveNodeFlags(): string[] {
  const bin = mkdtempSync(path.join(tmpdir(), 'deepn-bench-flags-'))
  try {
    writeFileSync(path.join(bin, 'node'), '#!/bin/sh\nprintf "%s\\n" "$@"\n', { mode: 0o755 })
    const env = { ...process.env, PATH: `${bin}:${process.env.PATH}` }
    const r = spawnSync(packagePath('agent', 'bin', 'deepn'), ['receive'], { env, encoding: 'utf8' })
    const args = r.stdout.trimEnd().split('\n')
    const cli = args.findIndex((a) => a.endsWith('cli.js'))
    if (r.status !== 0 || cli < 0) throw new Error(`agent/bin/deepn receive did not start node: ${r.stderr}`)
    return args.slice(0, cli)
  } finally {
    rmSync(bin, { recursive: true, force: true })
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms))
}

if (process.argv[2] === '--publish') {
  const [url, prefix, file] = process.argv.slice(3)
  publishInThisProcess(url, prefix, readFileSync(file)).catch((err: unknown) => {
    console.error(`bench publisher: ${err instanceof Error ? err.message : String(err)}`)
    process.exitCode = 1
  })
} else if (spawnSync('mosquitto_sub', ['--help']).error) {
  console.error('bench: mosquitto_sub not found (apt-get install mosquitto-clients)')
  process.exitCode = 2
} else {
  const flags = process.env.BENCH_NODE_DEFAULTS ? [] : receiveNodeFlags().filter((f) => !process.execArgv.includes(f))
  if (flags.length > 0) {
    const args = [...process.execArgv, ...flags, __filename, ...process.argv.slice(2)]
    process.exitCode = spawnSync(process.execPath, args, { stdio: 'inherit' }).status ?? 1
  } else
    main().catch((err: unknown) => {
      console.error(`bench: ${err instanceof Error ? err.message : String(err)}`)
      process.exitCode = 1
    })
}
