/**
 * The frame memory estimate behind `capture.memoryBudgetMB`: checked against what encoding a frame really takes
 * (peak RSS of a child process), the budget rules, the default derived from the device's memory, and a saved remote
 * layer over the budget (kept from an earlier run) that the agent trims at start instead of running out of memory.
 */
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { totalmem, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { applyPartial, defaults, validatePartial, type AgentConfig } from '../../shared/config'
import {
  checkFrameMemory,
  defaultMemoryBudgetMB,
  deviceMemoryBytes,
  estimateFrameMemory,
} from '../../agent/pipeline/frame-memory'
import { FileSavedConfigStore } from '../../agent/saved-config/file-store'
import { savedConfigPath } from '../../agent/saved-config/open'
import { createAgent } from '../../agent/commands/run'
import { loadLocalConfig } from '../../agent/config-file'
import { createLogger } from '../../agent/log'

const MiB = 1024 * 1024
const config = (over: unknown): AgentConfig => ({
  ...applyPartial(defaults(), validatePartial(over, { remote: false })),
})

/** Peak RSS growth (bytes) of capturing and encoding one synthetic frame, in a fresh process. */
function measuredEncodePeak(width: number, height: number, subsampling: string, optimizeHuffman: boolean): number {
  const dist = resolve(__dirname, '../../dist')
  const script = `
    const fs = require('fs')
    const { encodeJpeg } = require(${JSON.stringify(join(dist, 'shared/codec'))})
    const { syntheticFrame } = require(${JSON.stringify(join(dist, 'agent/capture/synthetic'))})
    const hwm = () => Number(/VmHWM:\\s+(\\d+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'))[1]) * 1024
    encodeJpeg(syntheticFrame(64, 64, 0), { quality: 100 }) // load the kernels first
    const before = hwm()
    const jpeg = encodeJpeg(syntheticFrame(${width}, ${height}, 1), { quality: 100, subsampling: '${subsampling}', optimizeHuffman: ${optimizeHuffman} })
    process.stdout.write(JSON.stringify({ peak: hwm() - before, jpeg: jpeg.length }))`
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' })
  if (r.status !== 0) throw new Error(r.stderr)
  return JSON.parse(r.stdout).peak
}

t.test('the estimate covers what capturing and encoding a frame really takes, at the finest tables', async (t) => {
  for (const [subsampling, optimizeHuffman] of [
    ['444', true],
    ['420', false],
    ['444', false],
  ] as const) {
    const c = config({ capture: { width: 2048, height: 2048 }, encoder: { subsampling, optimizeHuffman } })
    const est = estimateFrameMemory(c)
    const perFrame = est.capture + est.encoder + est.output
    const peak = measuredEncodePeak(2048, 2048, subsampling, optimizeHuffman)
    t.ok(
      perFrame >= peak,
      `${subsampling}${optimizeHuffman ? ' optimized' : ''}: estimate ${(perFrame / MiB).toFixed(1)} MiB >= measured ${(peak / MiB).toFixed(1)} MiB`,
    )
    t.ok(perFrame <= 2.5 * peak, `… and not far above it (${(perFrame / peak).toFixed(2)}x)`)
  }
})

t.test(
  'the parts follow the pipeline: source format, subsampling, optimizeHuffman, in-flight window, payload cap',
  async (t) => {
    const base = estimateFrameMemory(config({ capture: { width: 1920, height: 1080 } }))
    t.equal(base.capture, 1920 * 1080 * 1.5, 'synthetic: one I420 frame for a 4:2:0 encoder')
    t.equal(
      estimateFrameMemory(config({ capture: { width: 1920, height: 1080 }, encoder: { subsampling: '444' } })).capture,
      1920 * 1080 * 3,
      'synthetic: one RGB frame for 4:4:4',
    )
    t.equal(
      estimateFrameMemory(config({ capture: { width: 1920, height: 1080, source: 'rpicam' } })).capture,
      1920 * 1080 * 4.5,
      'rpicam: I420 held three times',
    )
    t.equal(base.output, 3 * 1920 * 1080 * 1.5 * 0.6, '3 J at 4:2:0')
    t.equal(base.inflight, 8 * 2 * 1920 * 1080 * 1.5 * 0.6, '8 in flight x 2 copies')
    t.ok(
      estimateFrameMemory(config({ capture: { width: 1920, height: 1080 }, encoder: { optimizeHuffman: true } }))
        .encoder >
        base.encoder + 1920 * 1080 * 1.5 * 2,
      'optimizeHuffman: every coefficient',
    )
    t.equal(
      estimateFrameMemory(config({ capture: { width: 1920, height: 1080 }, encoder: { progressive: true } })).encoder,
      estimateFrameMemory(config({ capture: { width: 1920, height: 1080 }, encoder: { optimizeHuffman: true } }))
        .encoder,
      'progressive: every coefficient, as optimizeHuffman',
    )
    t.equal(
      estimateFrameMemory(config({ capture: { width: 1920, height: 1080 }, mqtt: { maxPayloadBytes: 100000 } }))
        .inflight,
      8 * 2 * 100000,
      'capped by mqtt.maxPayloadBytes',
    )
    t.ok(
      estimateFrameMemory(config({ capture: { width: 1920, height: 1080 }, encoder: { subsampling: '444' } })).total >
        base.total,
    )
    t.ok(
      base.total < 64 * MiB,
      `1080p fits a 256 MB systemd unit's default budget (${(base.total / MiB).toFixed(1)} MiB)`,
    )
  },
)

t.test('budget rules: over the budget and growing is refused naming the keys; not growing is allowed', async (t) => {
  const small = config({ capture: { width: 64, height: 48, memoryBudgetMB: 16 } })
  const huge = config({ capture: { width: 8192, height: 8192, memoryBudgetMB: 16 } })
  t.throws(() => checkFrameMemory(huge, small), {
    name: 'ConfigError',
    message:
      /8192x8192 .*over the budget of 16 MB \('capture\.memoryBudgetMB', set on the device\): lower 'capture\.width'\/'capture\.height' or 'mqtt\.inflight'/,
  })
  t.doesNotThrow(() => checkFrameMemory(small, huge), 'shrinking is always fine')
  t.doesNotThrow(
    () => checkFrameMemory({ ...huge, log: { level: 'debug' } }, huge),
    'a local choice above the budget still takes changes that do not grow it',
  )
  t.throws(() => checkFrameMemory(huge), /over the budget/, 'with nothing to compare: over is over')
  t.throws(
    () => validatePartial({ capture: { memoryBudgetMB: 1 } }, { remote: true }),
    /'capture\.memoryBudgetMB' cannot be set remotely \(the device's own memory limit/,
  )
})

t.test('the default budget is half the device memory and is what the agent reports', async (t) => {
  t.ok(deviceMemoryBytes() <= totalmem() && deviceMemoryBytes() > 0)
  t.equal(defaultMemoryBudgetMB(), Math.floor(deviceMemoryBytes() / 2 / MiB))
  const local = loadLocalConfig({ env: { DEEPN_DEVICE_ID: 'x' } })
  t.equal(local.config.capture.memoryBudgetMB, defaultMemoryBudgetMB(), '0 resolves to the default')
  t.equal(
    loadLocalConfig({ env: { DEEPN__CAPTURE__MEMORY_BUDGET_MB: '100' } }).config.capture.memoryBudgetMB,
    100,
    'set locally, it wins',
  )
})

t.test('a saved remote layer over the budget is trimmed at start, the rest kept', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'deepn-membudget-'))
  const db = join(dir, 'buffer.db')
  new FileSavedConfigStore(savedConfigPath(db)).save({
    remote: { capture: { width: 8192, height: 8192 }, log: { level: 'error' } },
    version: 1,
  })
  const lines: string[] = []
  const env = {
    DEEPN_MQTT_URL: 'mqtt://127.0.0.1:9',
    DEEPN_DEVICE_ID: 'trim',
    DEEPN__BUFFER__PATH: db,
    DEEPN__CAPTURE__MEMORY_BUDGET_MB: '32',
  }
  const agent = createAgent(loadLocalConfig({ env }), createLogger({ level: 'warn', write: (l) => lines.push(l) }))
  t.teardown(() => agent.stop())
  t.ok(estimateFrameMemory(agent.config).total <= 32 * MiB, 'what runs fits the budget')
  t.equal(agent.config.log.level, 'error', 'the other saved keys still apply')
  t.match(lines.join('\n'), /saved remote configuration: leaving out 'capture\.(width|height)': frame memory/)
  t.match(agent.stats.lastError?.message, /leaving out/, 'and telemetry shows it')
})
