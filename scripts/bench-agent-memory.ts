/**
 * Memory benchmark: runs the real agent (`node dist/agent/cli.js run`) at 1920x1080 against a local Mosquitto
 * (or an in-process aedes when Mosquitto is not installed) for a few minutes and prints its RSS over time,
 * next to a bare Node process measured in the same run. Target: flat, under 80 MB.
 *
 *   npm run bench:agent-memory -- [--minutes 3] [--interval-ms 500] [--sample-s 10] [--width 1920 --height 1080]
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import mqtt from 'mqtt'

const CLI = resolve(__dirname, '../agent/cli.js')
const MOSQUITTO = '/usr/sbin/mosquitto'

function arg(argv: string[], name: string, def: number): number {
  const i = argv.indexOf(name)
  if (i < 0) return def
  const v = Number(argv[i + 1])
  if (!Number.isFinite(v) || v <= 0) throw new Error(`${name} needs a positive number, got ${argv[i + 1]}`)
  return v
}

function rssMB(pid: number): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m ? Number(m[1]) / 1024 : undefined
  } catch { return undefined }
}

async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer()
    s.once('error', rej)
    s.listen(0, '127.0.0.1', () => { const p = (s.address() as { port: number }).port; s.close(() => res(p)) })
  })
}

async function startBroker(dir: string): Promise<{ url: string; kind: string; stop(): void }> {
  const port = await freePort()
  if (existsSync(MOSQUITTO)) {
    const conf = join(dir, 'mosquitto.conf')
    writeFileSync(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\n`)
    const p = spawn(MOSQUITTO, ['-c', conf], { stdio: 'ignore' })
    await new Promise((r) => setTimeout(r, 500))
    return { url: `mqtt://127.0.0.1:${port}`, kind: 'mosquitto', stop: () => { p.kill() } }
  }
  const { Aedes } = require('aedes') as typeof import('aedes')
  const broker = await Aedes.createBroker()
  const srv = createServer(broker.handle)
  await new Promise<void>((r) => srv.listen(port, '127.0.0.1', r))
  return { url: `mqtt://127.0.0.1:${port}`, kind: 'aedes (in-process)', stop: () => { broker.close(); srv.close() } }
}

const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)] }

export async function main(argv: string[]): Promise<number> {
  const minutes = arg(argv, '--minutes', 3)
  const intervalMs = arg(argv, '--interval-ms', 500)
  const sampleS = arg(argv, '--sample-s', 10)
  const width = arg(argv, '--width', 1920)
  const height = arg(argv, '--height', 1080)
  if (!existsSync(CLI)) throw new Error(`${CLI} missing: run 'npm run build' first`)
  const dir = mkdtempSync(join(tmpdir(), 'deepn-bench-mem-'))
  const broker = await startBroker(dir)
  const config = join(dir, 'config.json')
  writeFileSync(config, JSON.stringify({
    deviceId: 'bench', mqtt: { url: broker.url }, capture: { width, height, intervalMs },
    buffer: { path: join(dir, 'buffer.db') }, telemetry: { intervalMs: 5000 }, log: { level: 'warn' },
  }))
  let frames = 0
  let bytes = 0
  let telemetry: { encodeMs?: { p50?: number; p95?: number }; backlog?: { frames: number } } = {}
  const sub = await mqtt.connectAsync(broker.url)
  sub.on('message', (t, p) => {
    if (t.endsWith('/frames')) { frames++; bytes += p.length } else telemetry = JSON.parse(p.toString())
  })
  await sub.subscribeAsync(['deepn/bench/frames', 'deepn/bench/telemetry'], { qos: 1 })

  // The peer: a bare Node process that loads nothing, measured in the same run.
  const bare = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' })
  // Same allocator settings as scripts/deepn-edge.service unless --default-malloc.
  const env = argv.includes('--default-malloc') ? process.env : { ...process.env, MALLOC_ARENA_MAX: '2', MALLOC_MMAP_THRESHOLD_: '262144', NODE_OPTIONS: process.env.BENCH_NODE_OPTIONS ?? '--max-semi-space-size=2', UV_THREADPOOL_SIZE: '2' }
  const agent: ChildProcess = spawn(process.execPath, [CLI, 'run', '--config', config], { stdio: ['ignore', 'inherit', 'inherit'], env })
  const samples: number[] = []
  console.log(`agent ${width}x${height}, capture every ${intervalMs} ms, broker ${broker.kind}, ${minutes} min, sample every ${sampleS} s, malloc ${env === process.env ? 'default' : 'MALLOC_ARENA_MAX=2 MALLOC_MMAP_THRESHOLD_=262144 NODE_OPTIONS=--max-semi-space-size=2 UV_THREADPOOL_SIZE=2 (as in deepn-edge.service)'}`)
  console.log('   t(s)  agent RSS MB  bare node MB  ratio  frames  fps   KB/frame  enc p50/p95 ms  backlog')
  const start = Date.now()
  let lastFrames = 0
  let lastT = start
  await new Promise<void>((done) => {
    const timer = setInterval(() => {
      const now = Date.now()
      const a = rssMB(agent.pid!)
      const b = rssMB(bare.pid!)
      if (a === undefined) { console.log('agent exited'); clearInterval(timer); done(); return }
      samples.push(a)
      const fps = ((frames - lastFrames) * 1000) / (now - lastT)
      lastFrames = frames
      lastT = now
      console.log(`${String(Math.round((now - start) / 1000)).padStart(7)}  ${a.toFixed(1).padStart(12)}  ${(b ?? 0).toFixed(1).padStart(12)}  ${(a / (b ?? 1)).toFixed(2).padStart(5)}  ${String(frames).padStart(6)}  ${fps.toFixed(2).padStart(4)}  ${(frames ? bytes / frames / 1024 : 0).toFixed(1).padStart(8)}  ${`${telemetry.encodeMs?.p50 ?? '-'}/${telemetry.encodeMs?.p95 ?? '-'}`.padStart(14)}  ${telemetry.backlog?.frames ?? '-'}`)
      if (now - start >= minutes * 60000) { clearInterval(timer); done() }
    }, sampleS * 1000)
  })
  agent.kill('SIGTERM')
  await new Promise((r) => agent.once('exit', r))
  bare.kill()
  await sub.endAsync()
  broker.stop()
  rmSync(dir, { recursive: true, force: true })
  if (samples.length >= 2) {
    const half = Math.floor(samples.length / 2)
    const first = median(samples.slice(0, half))
    const second = median(samples.slice(half))
    console.log(`\nRSS median first half ${first.toFixed(1)} MB, second half ${second.toFixed(1)} MB (drift ${(second - first).toFixed(1)} MB, ${((second / first - 1) * 100).toFixed(1)} %), max ${Math.max(...samples).toFixed(1)} MB; target < 80 MB: ${Math.max(...samples) < 80 ? 'met' : 'NOT met'}`)
  }
  return 0
}

if (require.main === module) main(process.argv.slice(2)).then((c) => { process.exitCode = c }, (e) => { console.error(String(e)); process.exitCode = 1 })
