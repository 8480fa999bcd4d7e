/**
 * Scale-out benchmark (offline; `npm run bench:fleet`): one local Mosquitto, a simulated fleet (`deepn simulate`'s
 * code, in this process) of BENCH_DEVICES devices at BENCH_FPS each for BENCH_SECONDS, against 1, 2 and 4
 * `deepn receive --group` processes (the built CLI) writing one folder. Per run: the storage rate (frames over the
 * span from the first to the last frame stored) and the end-to-end latency (index `receivedAt` − frame
 * `capturedAt`, the simulator stamping capture time at publish) p50/p99; every frame the broker took must be on
 * disk once with one index line, or the run fails. Prints medians over BENCH_ROUNDS and the ratios to 1 receiver.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import * as path from 'node:path'
import { startFleet } from '../backend/simulate/fleet'
import { freePort, waitForPort } from '../common/ports'

const DEVICES = Number(process.env.BENCH_DEVICES ?? 100)
const FPS = Number(process.env.BENCH_FPS ?? 10)
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const RECEIVERS = (process.env.BENCH_RECEIVERS ?? '1,2,4').split(',').map(Number)
const CLI = path.join(__dirname, '..', '..', 'agent', 'cli.js')

interface Run {
  framesPerSec: number
  p50Ms: number
  p99Ms: number
  frames: number
}

async function main(): Promise<void> {
  if (!existsSync(CLI)) throw new Error(`${CLI} missing: npm run build first`)
  const dir = mkdtempSync(path.join(tmpdir(), 'deepn-bench-fleet-'))
  const port = await freePort()
  writeFileSync(
    path.join(dir, 'm.conf'),
    `listener ${port} 127.0.0.1\nallow_anonymous true\nmax_queued_messages 1000000\nmax_queued_bytes 0\n`,
  )
  const broker = spawn('/usr/sbin/mosquitto', ['-c', path.join(dir, 'm.conf')], { stdio: 'ignore' })
  try {
    await waitForPort(port)
    const url = `mqtt://127.0.0.1:${port}`
    console.log(
      `fleet benchmark: ${DEVICES} devices x ${FPS} fps (${DEVICES * FPS} frames/s asked) for ${SECONDS} s, 640x480, receivers ${RECEIVERS.join('/')}, ${ROUNDS} rounds, tmp dir ${dir}`,
    )
    const results = new Map<number, Run[]>(RECEIVERS.map((n) => [n, []]))
    for (let r = 0; r < ROUNDS; r++)
      for (const n of RECEIVERS) {
        const run = await oneRun(url, path.join(dir, `ds-${r}-${n}`), `bench-${r}-${n}`, n)
        console.log(
          `  round ${r + 1}, ${n} receiver(s): ${run.frames} frames, ${run.framesPerSec.toFixed(1)} frames/s, latency p50 ${run.p50Ms.toFixed(0)} ms p99 ${run.p99Ms.toFixed(0)} ms`,
        )
        results.get(n)!.push(run)
      }
    const base = median(results.get(RECEIVERS[0])!.map((x) => x.framesPerSec))
    for (const [n, runs] of results) {
      const fps = median(runs.map((x) => x.framesPerSec))
      console.log(
        `${String(n).padStart(2)} receiver(s): median ${fps.toFixed(1)} frames/s (ratio ${(fps / base).toFixed(2)}), latency p50 ${median(runs.map((x) => x.p50Ms)).toFixed(0)} ms, p99 ${median(runs.map((x) => x.p99Ms)).toFixed(0)} ms`,
      )
    }
  } finally {
    broker.kill('SIGTERM')
    rmSync(dir, { recursive: true, force: true })
  }
}

async function oneRun(url: string, out: string, group: string, n: number): Promise<Run> {
  const receivers: ChildProcess[] = []
  try {
    for (let i = 0; i < n; i++) {
      const args = ['receive', '--url', url, '--out', out, '--group', group, '--client-id', `${group}-${i}`]
      const child = spawn(process.execPath, [CLI, ...args, '--summary', '0', '--session-expiry', '60'], {
        stdio: ['ignore', 'ignore', 'pipe'],
      })
      receivers.push(child)
      await new Promise<void>((resolve, reject) => {
        let text = ''
        child.stderr!.on('data', (d) => {
          text += d
          if (text.includes('subscribed to')) resolve()
        })
        child.once('exit', (code) => reject(new Error(`receiver exited (${code}):\n${text}`)))
      })
    }
    const fleet = await startFleet({
      url,
      devices: DEVICES,
      fps: FPS,
      width: 640,
      height: 480,
      durationMs: SECONDS * 1000,
      idPrefix: 'bench-',
    })
    const stats = await fleet.done
    if (stats.errors > 0) throw new Error(`${stats.errors} publishes failed`)
    const deadline = Date.now() + 300000
    while (countFiles(out) < stats.acknowledged) {
      if (Date.now() > deadline) throw new Error(`only ${countFiles(out)} of ${stats.acknowledged} frames stored`)
      await sleep(250)
    }
    await Promise.all(
      receivers.map(
        (c) =>
          new Promise<void>((resolve) => {
            c.once('exit', () => resolve())
            c.kill('SIGTERM')
          }),
      ),
    )
    return measure(out, fleet.deviceIds, stats.acknowledged)
  } finally {
    for (const c of receivers) if (c.exitCode === null) c.kill('SIGKILL')
    rmSync(out, { recursive: true, force: true })
  }
}

function countFiles(out: string): number {
  if (!existsSync(out)) return 0
  let n = 0
  for (const dev of readdirSync(out, { withFileTypes: true })) {
    if (!dev.isDirectory()) continue
    for (const day of readdirSync(path.join(out, dev.name), { withFileTypes: true }))
      if (day.isDirectory())
        n += readdirSync(path.join(out, dev.name, day.name)).filter((f) => /^\d+\.jpg$/.test(f)).length
  }
  return n
}

/** Checks every device's index (seqs 1..k once each, matching the files) and takes the rate and latencies. */
function measure(out: string, deviceIds: readonly string[], expected: number): Run {
  const latencies: number[] = []
  let first = Number.POSITIVE_INFINITY
  let last = 0
  for (const id of deviceIds) {
    const seqs = new Set<number>()
    for (const line of readFileSync(path.join(out, id, 'index.jsonl'), 'utf8').split('\n')) {
      if (!line) continue
      const e = JSON.parse(line) as { seq: number; capturedAt: string; receivedAt: string }
      if (seqs.has(e.seq)) throw new Error(`${id}: seq ${e.seq} indexed twice`)
      seqs.add(e.seq)
      const at = Date.parse(e.receivedAt)
      latencies.push(at - Date.parse(e.capturedAt))
      first = Math.min(first, at)
      last = Math.max(last, at)
    }
    for (let s = 1; s <= seqs.size; s++) if (!seqs.has(s)) throw new Error(`${id}: seq ${s} missing`)
  }
  if (latencies.length !== expected) throw new Error(`${latencies.length} index lines for ${expected} frames`)
  if (countFiles(out) !== expected) throw new Error(`${countFiles(out)} files for ${expected} frames`)
  latencies.sort((a, b) => a - b)
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))]
  return {
    frames: expected,
    framesPerSec: expected / Math.max((last - first) / 1000, 1e-3),
    p50Ms: pct(50),
    p99Ms: pct(99),
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms))
}

main().catch((err: unknown) => {
  console.error(`bench: ${err instanceof Error ? err.message : String(err)}`)
  process.exitCode = 1
})
