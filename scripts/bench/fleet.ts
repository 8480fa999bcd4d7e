/**
 * Scale-out benchmark (offline; `npm run bench:fleet`): one local Mosquitto, a simulated fleet (`deepn simulate`'s
 * code, in this process) of BENCH_DEVICES devices at BENCH_FPS each for BENCH_SECONDS, against 1, 2 and 4
 * `deepn receive --group` processes (the built CLI) writing one folder. Per run: the storage rate (frames over the
 * span from the first to the last frame stored) and the end-to-end latency (index `receivedAt` − frame
 * `capturedAt`, the simulator stamping capture time at publish) p50/p99; the frames indexed exactly once, and the
 * deliveries the receivers refused as duplicates (their exit summaries); the receivers' CPU time (user + system,
 * read from /proc before they are stopped) per 1000 frames. Every frame the broker took must be on disk once with
 * one index line, or the run fails. Prints medians over BENCH_ROUNDS and the ratios to 1 receiver.
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
  /** Frames with exactly one index line (the run fails unless that is all of them). */
  indexedOnce: number
  /** Deliveries the receivers refused as duplicates. */
  refused: number
  /** Receivers' CPU ms (user + system) per 1000 frames stored. */
  cpuMsPer1000: number
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
          `  round ${r + 1}, ${n} receiver(s): ${run.frames} frames, ${run.framesPerSec.toFixed(1)} frames/s, latency p50 ${run.p50Ms.toFixed(0)} ms p99 ${run.p99Ms.toFixed(0)} ms, indexed once ${run.indexedOnce}/${run.frames}, ${run.refused} redeliveries refused, receivers' CPU ${run.cpuMsPer1000.toFixed(0)} ms per 1000 frames`,
        )
        results.get(n)!.push(run)
      }
    const base = median(results.get(RECEIVERS[0])!.map((x) => x.framesPerSec))
    for (const [n, runs] of results) {
      const fps = median(runs.map((x) => x.framesPerSec))
      console.log(
        `${String(n).padStart(2)} receiver(s): median ${fps.toFixed(1)} frames/s (ratio ${(fps / base).toFixed(2)}), latency p50 ${median(runs.map((x) => x.p50Ms)).toFixed(0)} ms, p99 ${median(runs.map((x) => x.p99Ms)).toFixed(0)} ms, CPU ${median(runs.map((x) => x.cpuMsPer1000)).toFixed(0)} ms per 1000 frames`,
      )
    }
  } finally {
    broker.kill('SIGTERM')
    rmSync(dir, { recursive: true, force: true })
  }
}

async function oneRun(url: string, out: string, group: string, n: number): Promise<Run> {
  const receivers: ChildProcess[] = []
  const logs: string[] = []
  try {
    for (let i = 0; i < n; i++) {
      const args = ['receive', '--url', url, '--out', out, '--group', group, '--client-id', `${group}-${i}`]
      const child = spawn(process.execPath, [CLI, ...args, '--summary', '0', '--session-expiry', '60'], {
        stdio: ['ignore', 'ignore', 'pipe'],
      })
      receivers.push(child)
      logs.push('')
      await new Promise<void>((resolve, reject) => {
        child.stderr!.on('data', (d) => {
          logs[i] += d
          if (logs[i].includes('subscribed to')) resolve()
        })
        child.once('exit', (code) => reject(new Error(`receiver exited (${code}):\n${logs[i]}`)))
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
    const cpuMs = receivers.reduce((sum, c) => sum + cpuTimeMs(c.pid!), 0)
    await Promise.all(
      receivers.map(
        (c) =>
          new Promise<void>((resolve) => {
            c.once('close', () => resolve()) // exited and its stderr read to the end (the summary)
            c.kill('SIGTERM')
          }),
      ),
    )
    // the exit summary: `  <device>: … N duplicates` per device
    const silent = logs.findIndex((log) => !/\[receive\] \d+ device\(s\)/.test(log))
    if (silent >= 0) throw new Error(`receiver ${silent} printed no exit summary:\n${logs[silent]}`)
    const refused = logs.reduce(
      (sum, log) => sum + [...log.matchAll(/, (\d+) duplicates/g)].reduce((k, m) => k + Number(m[1]), 0),
      0,
    )
    let checked: ReturnType<typeof measure>
    try {
      checked = measure(out, fleet.deviceIds, stats.acknowledged)
    } catch (err) {
      throw new Error(`${(err as Error).message}; ${refused} redeliveries refused`)
    }
    return {
      ...checked,
      refused,
      cpuMsPer1000: (cpuMs / stats.acknowledged) * 1000,
    }
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

/** Receiver CPU time so far (user + system) from /proc/<pid>/stat; clock ticks taken as 1/100 s (Linux's USER_HZ). */
function cpuTimeMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ') // after "pid (comm) ": field 3 on
  return (Number(fields[11]) + Number(fields[12])) * 10 // utime, stime: fields 14 and 15
}

/**
 * Checks every device's index (seqs 1..k once each, matching the files) and takes the rate and latencies. A seq
 * indexed twice fails the run, after counting them all.
 */
function measure(out: string, deviceIds: readonly string[], expected: number): Omit<Run, 'refused' | 'cpuMsPer1000'> {
  const latencies: number[] = []
  let first = Number.POSITIVE_INFINITY
  let last = 0
  let indexedOnce = 0
  const twice: string[] = []
  for (const id of deviceIds) {
    const seqs = new Set<number>()
    const repeated = new Set<number>()
    for (const line of readFileSync(path.join(out, id, 'index.jsonl'), 'utf8').split('\n')) {
      if (!line) continue
      const e = JSON.parse(line) as { seq: number; capturedAt: string; receivedAt: string }
      if (seqs.has(e.seq)) {
        repeated.add(e.seq)
        continue
      }
      seqs.add(e.seq)
      const at = Date.parse(e.receivedAt)
      latencies.push(at - Date.parse(e.capturedAt))
      first = Math.min(first, at)
      last = Math.max(last, at)
    }
    for (let s = 1; s <= seqs.size; s++) if (!seqs.has(s)) throw new Error(`${id}: seq ${s} missing`)
    indexedOnce += seqs.size - repeated.size
    for (const seq of repeated) twice.push(`${id}/${seq}`)
  }
  if (twice.length > 0)
    throw new Error(
      `${twice.length} seqs indexed more than once (${twice.slice(0, 5).join(', ')}); ${indexedOnce} once`,
    )
  if (latencies.length !== expected) throw new Error(`${latencies.length} index lines for ${expected} frames`)
  if (countFiles(out) !== expected) throw new Error(`${countFiles(out)} files for ${expected} frames`)
  latencies.sort((a, b) => a - b)
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))]
  return {
    frames: expected,
    indexedOnce,
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

const USAGE = `npm run bench:fleet [-- --help]: 1, 2 and 4 \`deepn receive --group\` processes on one folder under a
simulated fleet, on a local Mosquitto. Prints per run frames/s stored, latency p50/p99, frames indexed exactly once,
redeliveries refused, the receivers' CPU ms per 1000 frames; then medians. Environment:
  BENCH_DEVICES=${DEVICES}  BENCH_FPS=${FPS} (per device)  BENCH_SECONDS=${SECONDS}  BENCH_ROUNDS=${ROUNDS}  BENCH_RECEIVERS=${RECEIVERS.join(',')}`

if (process.argv.includes('--help')) console.log(USAGE)
else
  main().catch((err: unknown) => {
    console.error(`bench: ${err instanceof Error ? err.message : String(err)}`)
    process.exitCode = 1
  })
