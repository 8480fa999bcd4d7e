/**
 * Memory benchmark: runs the real agent as a plain `deepn run` (agent/bin/deepn, the command npm links, with no
 * NODE_OPTIONS or malloc settings in its environment: only those the command sets itself) at 1920x1080, 2 frames/s,
 * against a local Mosquitto (or an in-process aedes when Mosquitto is not installed), samples its RSS, and prints
 * min/median/max and the slope over time, next to a bare Node process measured in the same run. With
 * --no-launcher a second agent runs alongside as `node dist/agent/cli.js run`, without the command's start-time
 * settings, and gets its own row.
 *
 *   npm run bench:agent-memory -- [--minutes 3] [--interval-ms 500] [--sample-s 5] [--width 1920 --height 1080]
 *                                 [--no-launcher] [--progressive] [--target-mb 64]
 *
 * Slope: least squares over the samples after the warm-up (the first minute, or the first fifth of a shorter run),
 * in MB per minute. Flat = the drift it predicts over the measured span is within twice the samples' scatter
 * around the line (the residual standard deviation), i.e. indistinguishable from noise.
 *
 * RSS also counts file pages (the node binary, shared libraries) the process maps, and it maps more of them over
 * time as other processes bring them into the page cache (the kernel's fault-around maps cached neighbours of a
 * faulting page): an idle bare Node process grew 39.5 → 45 MiB in 50 minutes on a busy machine. So each row also
 * gets its anonymous memory (RssAnon: heaps, arenas, stacks; what the process itself allocated) with its own slope,
 * to be read against the bare process's (an idle Node 20 process's own creeps too, ~0.06 MB/min over 30 minutes).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { delimiter, dirname, join } from 'node:path'
import mqtt from 'mqtt'
import { packagePath } from '../../agent/package-root'
import { freePort } from '../common/ports'

const CLI = packagePath('dist', 'agent', 'cli.js')
const LAUNCHER = packagePath('agent', 'bin', 'deepn')
const MOSQUITTO = '/usr/sbin/mosquitto'
/** Settings that change how Node and glibc use memory: a plain run must not inherit them from the shell. */
const MEMORY_ENV = [
  'NODE_OPTIONS',
  'UV_THREADPOOL_SIZE',
  'MALLOC_ARENA_MAX',
  'MALLOC_MMAP_THRESHOLD_',
  'MALLOC_TRIM_THRESHOLD_',
  'MALLOC_TOP_PAD_',
  'GLIBC_TUNABLES',
]

function arg(argv: string[], name: string, def: number): number {
  const i = argv.indexOf(name)
  if (i < 0) return def
  const v = Number(argv[i + 1])
  if (!Number.isFinite(v) || v <= 0) throw new Error(`${name} needs a positive number, got ${argv[i + 1]}`)
  return v
}

/** RSS and its anonymous part (RssAnon), MB; undefined once the process is gone. */
function memoryMB(pid: number): { rss: number; anon: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    const kb = (key: string): number | undefined => {
      const m = new RegExp(`${key}:\\s+(\\d+) kB`).exec(status)
      return m ? Number(m[1]) / 1024 : undefined
    }
    const rss = kb('VmRSS')
    return rss === undefined ? undefined : { rss, anon: kb('RssAnon') ?? rss }
  } catch {
    return undefined
  }
}

async function startBroker(dir: string): Promise<{ url: string; kind: string; stop(): void }> {
  const port = await freePort()
  if (existsSync(MOSQUITTO)) {
    const conf = join(dir, 'mosquitto.conf')
    writeFileSync(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\n`)
    const p = track(spawn(MOSQUITTO, ['-c', conf], { stdio: 'ignore' }))
    await new Promise((r) => setTimeout(r, 500))
    return {
      url: `mqtt://127.0.0.1:${port}`,
      kind: 'mosquitto',
      stop: () => {
        p.kill()
      },
    }
  }
  const { Aedes } = require('aedes') as typeof import('aedes')
  const broker = await Aedes.createBroker()
  const srv = createServer(broker.handle)
  await new Promise<void>((r) => srv.listen(port, '127.0.0.1', r))
  return {
    url: `mqtt://127.0.0.1:${port}`,
    kind: 'aedes (in-process)',
    stop: () => {
      broker.close()
      srv.close()
    },
  }
}

/** The shell's environment less every setting that changes memory use: what a plain `deepn run` gets. */
export function plainEnvironment(base: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env = { ...base }
  for (const k of MEMORY_ENV) delete env[k]
  return env
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]
}

export interface Summary {
  min: number
  median: number
  max: number
  /** MB per minute over the samples after the warm-up. */
  slope: number
  /** Residual standard deviation around the line, MB. */
  noise: number
  /** slope x the measured span, MB. */
  drift: number
  flat: boolean
}

/** min/median/max of all samples; slope, noise and flatness over those at or after `warmupS` (see the header). */
export function summarize(samples: { t: number; mb: number }[], warmupS: number): Summary {
  const all = samples.map((s) => s.mb)
  const xs = samples.filter((s) => s.t >= warmupS)
  const n = xs.length
  let slope = 0,
    noise = 0,
    span = 0
  if (n >= 3) {
    const mt = xs.reduce((a, s) => a + s.t, 0) / n
    const mm = xs.reduce((a, s) => a + s.mb, 0) / n
    let sxy = 0,
      sxx = 0
    for (const s of xs) {
      sxy += (s.t - mt) * (s.mb - mm)
      sxx += (s.t - mt) ** 2
    }
    const b = sxx ? sxy / sxx : 0
    const sse = xs.reduce((a, s) => a + (s.mb - (mm + b * (s.t - mt))) ** 2, 0)
    noise = Math.sqrt(sse / (n - 2))
    slope = b * 60
    span = xs[n - 1].t - xs[0].t
  }
  const drift = (slope * span) / 60
  return {
    min: Math.min(...all),
    median: median(all),
    max: Math.max(...all),
    slope,
    noise,
    drift,
    flat: Math.abs(drift) <= 2 * noise + 0.1,
  }
}

/** Length of the windows the drift is compared in: the issue's "flat over 10 minutes". */
const WINDOW_S = 600

/** Consecutive windows of WINDOW_S from the end of the warm-up (one shorter window for a shorter run). */
export function driftWindows(warmupS: number, endS: number): { from: number; to: number }[] {
  const out: { from: number; to: number }[] = []
  for (let from = warmupS; from < endS; from += WINDOW_S) {
    const to = Math.min(endS, from + WINDOW_S)
    if (to - from >= WINDOW_S / 2 || out.length === 0) out.push({ from, to })
  }
  return out
}

const inWindow = <T extends { t: number }>(xs: T[], w: { from: number; to: number }): T[] =>
  xs.filter((x) => x.t >= w.from && x.t <= w.to)

interface Agent {
  name: string
  deviceId: string
  proc: ChildProcess
  samples: { t: number; mb: number }[]
  anon: { t: number; mb: number }[]
  frames: number
  bytes: number
  telemetry: { encodeMs?: { p50?: number; p95?: number } }
}

const USAGE = `npm run bench:agent-memory -- [--minutes 3] [--interval-ms 500] [--sample-s 5] [--width 1920 --height 1080]
                              [--no-launcher] [--progressive] [--target-mb 64]
Runs the agent as a plain \`deepn run\` (agent/bin/deepn; with --no-launcher a second one as \`node dist/agent/cli.js
run\`, without the start-time memory settings the command sets) at
the given size and interval against a local broker, next to a bare Node process, and prints RSS and its anonymous
part every --sample-s seconds, then min/median/max, slope and flatness per row. --progressive: the agents encode
progressive scans (two-pass), otherwise baseline as configured by default.`

/** Children that must not outlive the benchmark, however it ends (Ctrl-C, kill, a closed pipe, an exception). */
const children = new Set<ChildProcess>()
function track(p: ChildProcess): ChildProcess {
  children.add(p)
  p.once('exit', () => children.delete(p))
  return p
}
/** Its scratch folder (configs, buffers, the broker's config), removed however it ends too. */
let scratch: string | undefined
process.once('exit', () => {
  for (const p of [...children].reverse()) p.kill('SIGKILL') // the agents before their broker
  if (scratch) rmSync(scratch, { recursive: true, force: true })
})
// A signal sent to the benchmark alone (kill, pkill) ends node without 'exit' handlers unless it is handled: the
// agents and the broker, in no signalled process group, kept running.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(signal, () => process.exit(1))
// `… | head`: the reader is gone, so is the point of measuring; end quietly (the exit handler stops the children).
process.stdout.on('error', (e: NodeJS.ErrnoException) => process.exit(e.code === 'EPIPE' ? 0 : 1))

export async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help')) {
    console.log(USAGE)
    return 0
  }
  const minutes = arg(argv, '--minutes', 3)
  const intervalMs = arg(argv, '--interval-ms', 500)
  const sampleS = arg(argv, '--sample-s', 5)
  const width = arg(argv, '--width', 1920)
  const height = arg(argv, '--height', 1080)
  const targetMB = arg(argv, '--target-mb', 64)
  const withoutLauncher = argv.includes('--no-launcher')
  // progressive scans: two-pass encoding, which the agent collects after with the regular flavour (reclaim.ts)
  const progressive = argv.includes('--progressive')
  if (!existsSync(CLI)) throw new Error(`${CLI} missing: run 'npm run build' first`)
  const dir = mkdtempSync(join(tmpdir(), 'deepn-bench-mem-'))
  scratch = dir
  const broker = await startBroker(dir)
  const sub = await mqtt.connectAsync(broker.url)
  const agents: Agent[] = []
  // what runs each agent: the command a user types, and (--no-launcher) node on the CLI with nothing set at start
  const rows: [string, string[], string][] = [
    ['deepn run', [LAUNCHER], 'agent/bin/deepn: its own start-time settings, nothing from the environment'],
  ]
  if (withoutLauncher)
    rows.push(['node cli.js run', [process.execPath, CLI], 'node dist/agent/cli.js run: no start-time settings'])
  for (const [name, [command, ...args], desc] of rows) {
    const deviceId = `bench-${agents.length}`
    const config = join(dir, `${deviceId}.json`)
    writeFileSync(
      config,
      JSON.stringify({
        deviceId,
        mqtt: { url: broker.url },
        capture: { width, height, intervalMs },
        ...(progressive ? { encoder: { progressive: true } } : {}),
        buffer: { path: join(dir, `${deviceId}.db`) },
        telemetry: { intervalMs: 5000 },
        log: { level: 'warn' },
      }),
    )
    const proc = track(
      spawn(command, [...args, 'run', '--config', config], {
        stdio: ['ignore', 'inherit', 'inherit'],
        // the launcher runs `node` from PATH: this one, as for the bare process and the other row
        env: {
          ...plainEnvironment(process.env),
          PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ''}`,
        },
      }),
    )
    agents.push({ name, deviceId, proc, samples: [], anon: [], frames: 0, bytes: 0, telemetry: {} })
    console.log(`agent '${name}' (${deviceId}): ${desc}`)
  }
  sub.on('message', (t, p) => {
    const a = agents.find((x) => t.startsWith(`deepn/${x.deviceId}/`))
    if (!a) return
    if (t.endsWith('/frames')) {
      a.frames++
      a.bytes += p.length
    } else a.telemetry = JSON.parse(p.toString())
  })
  await sub.subscribeAsync(
    agents.flatMap((a) => [`deepn/${a.deviceId}/frames`, `deepn/${a.deviceId}/telemetry`]),
    { qos: 1 },
  )

  // The peer: a bare Node process that loads nothing, measured in the same run.
  const bare = track(
    spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], {
      stdio: 'ignore',
      env: plainEnvironment(process.env),
    }),
  )
  const bareSamples: { t: number; mb: number }[] = []
  const bareAnon: { t: number; mb: number }[] = []
  console.log(
    `${width}x${height}, capture every ${intervalMs} ms, broker ${broker.kind}, ${minutes} min, sample every ${sampleS} s`,
  )
  console.log(
    `   t(s)  ${agents.map((a) => `${a.name.slice(0, 15).padStart(15)} MB  anon  frames  KB/frame  enc p50/p95 ms`).join('  ')}  bare node MB  anon`,
  )
  const start = Date.now()
  let exited = false
  await new Promise<void>((done) => {
    const timer = setInterval(() => {
      const t = (Date.now() - start) / 1000
      const cols: string[] = []
      for (const a of agents) {
        const mem = memoryMB(a.proc.pid!)
        if (mem === undefined) {
          console.log(`agent '${a.name}' exited`)
          exited = true
          clearInterval(timer)
          done()
          return
        }
        a.samples.push({ t, mb: mem.rss })
        a.anon.push({ t, mb: mem.anon })
        cols.push(
          `${mem.rss.toFixed(1).padStart(18)}  ${mem.anon.toFixed(1).padStart(4)}  ${String(a.frames).padStart(6)}  ${(a.frames ? a.bytes / a.frames / 1024 : 0).toFixed(1).padStart(8)}  ${`${a.telemetry.encodeMs?.p50 ?? '-'}/${a.telemetry.encodeMs?.p95 ?? '-'}`.padStart(14)}`,
        )
      }
      const b = memoryMB(bare.pid!) ?? { rss: 0, anon: 0 }
      bareSamples.push({ t, mb: b.rss })
      bareAnon.push({ t, mb: b.anon })
      console.log(
        `${String(Math.round(t)).padStart(7)}  ${cols.join('  ')}  ${b.rss.toFixed(1).padStart(12)}  ${b.anon.toFixed(1).padStart(4)}`,
      )
      if (t >= minutes * 60) {
        clearInterval(timer)
        done()
      }
    }, sampleS * 1000)
  })
  for (const a of agents) a.proc.kill('SIGTERM')
  await Promise.all(
    agents.map((a) => new Promise((r) => (a.proc.exitCode !== null ? r(null) : a.proc.once('exit', r)))),
  )
  bare.kill()
  await sub.endAsync()
  broker.stop()

  const warmupS = Math.min(60, (minutes * 60) / 5)
  console.log(
    `\nRSS in MB (MiB), ${minutes} min; slope over the samples after the first ${warmupS} s; flat = drift within 2x the scatter`,
  )
  console.log(
    '  row                    min  median     max   slope MB/min   drift MB   scatter MB   flat   frames  median < target',
  )
  const row = (name: string, samples: { t: number; mb: number }[], tail: string): void => {
    const s = summarize(samples, warmupS)
    console.log(
      `  ${name.padEnd(19)} ${s.min.toFixed(1).padStart(6)}  ${s.median.toFixed(1).padStart(6)}  ${s.max.toFixed(1).padStart(6)}   ${s.slope.toFixed(3).padStart(12)}   ${s.drift.toFixed(2).padStart(8)}   ${s.noise.toFixed(2).padStart(10)}   ${(s.flat ? 'yes' : 'NO').padStart(4)}${tail}`,
    )
  }
  for (const a of agents) {
    if (a.samples.length < 2) continue
    const met = summarize(a.samples, warmupS).median < targetMB
    row(a.name, a.samples, `   ${String(a.frames).padStart(6)}  ${met ? 'met' : 'NOT met'} (${targetMB} MB)`)
    row('  of it anonymous', a.anon, '')
  }
  if (bareSamples.length >= 2) {
    row('bare node', bareSamples, '')
    row('  of it anonymous', bareAnon, '')
    console.log(
      `\nAnonymous drift per ${WINDOW_S / 60}-minute window after the warm-up, MB, each agent against the idle bare node in the same window`,
    )
    console.log('  (an idle Node process creeps too: an agent that drifts no more than it adds no growth of its own)')
    for (const w of driftWindows(warmupS, minutes * 60)) {
      const bare = summarize(inWindow(bareAnon, w), 0)
      const cols = agents.map((a) => {
        const d = summarize(inWindow(a.anon, w), 0)
        const own = d.drift - bare.drift
        return `${a.name} ${d.drift >= 0 ? '+' : ''}${d.drift.toFixed(2)} (beyond bare: ${own >= 0 ? '+' : ''}${own.toFixed(2)}, ${own <= 2 * Math.max(d.noise, bare.noise) + 0.1 ? 'none' : 'GROWS'})`
      })
      console.log(
        `  ${String(Math.round(w.from)).padStart(5)}-${String(Math.round(w.to)).padEnd(5)} s  bare node ${bare.drift >= 0 ? '+' : ''}${bare.drift.toFixed(2)}  ${cols.join('  ')}`,
      )
    }
  }
  return exited ? 1 : 0
}

if (require.main === module)
  main(process.argv.slice(2)).then(
    (c) => {
      process.exitCode = c
    },
    (e) => {
      console.error(`bench:agent-memory: ${String(e instanceof Error ? e.message : e)}`)
      process.exitCode = 1
    },
  )
