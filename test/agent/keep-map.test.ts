/**
 * encoder.keepMap in the running agent (real Mosquitto, real SQLite file, real encoder, synthetic camera with a
 * moving disc and bar): set and refused over config/set, named in frames and telemetry; a DC-only map makes
 * smaller frames that djpeg decodes, flat block by block, and motion raises the cells where the pattern moves.
 */
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { readJpegMetadata } from '../../shared/codec/metadata'
import { validatePartial } from '../../shared/config'
import { createAgent } from '../../agent/commands/run'
import { loadLocalConfig } from '../../agent/config-file'
import { memoryLogger } from '../helpers/log'
import { startMosquitto } from '../helpers/mosquitto'
import { subscribe, type Received } from '../helpers/subscriber'
import { parsePnm } from '../codec/helpers'

const log = memoryLogger('warn')

function agentFor(url: string, deviceId: string, size: [number, number], extra: Record<string, unknown> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'deepn-keep-'))
  const env = {
    DEEPN_MQTT_URL: url,
    DEEPN_DEVICE_ID: deviceId,
    DEEPN__BUFFER__PATH: join(dir, 'buffer.db'),
    DEEPN_LOG_LEVEL: 'warn',
    DEEPN__CAPTURE__WIDTH: String(size[0]),
    DEEPN__CAPTURE__HEIGHT: String(size[1]),
    DEEPN__CAPTURE__INTERVAL_MS: '50',
  }
  const local = loadLocalConfig({ env })
  local.local = { ...local.local, ...validatePartial(extra, { remote: false }) }
  return createAgent(local, log)
}

const metaOf = (m: Received) => readJpegMetadata(new Uint8Array(m.payload)) as Record<string, unknown>
const json = (m: Received) => JSON.parse(m.payload.toString())
const suffix = () => Math.random().toString(16).slice(2, 8)

t.test(
  'config/set: a valid map applies and is named in frames and telemetry; a bad one is refused, the old stays',
  async (t) => {
    const broker = await startMosquitto()
    t.teardown(() => broker.stop())
    const deviceId = `km-${suffix()}`
    const agent = agentFor(broker.url, deviceId, [160, 120], { telemetry: { intervalMs: 1000 } })
    const sub = await subscribe(broker.url, [`deepn/${deviceId}/#`])
    t.teardown(() => sub.close())
    await agent.start()
    t.teardown(() => agent.stop())
    await sub.waitFor(() => sub.on('frames').length >= 2, 30000, 'first frames')
    t.notOk('keepMap' in metaOf(sub.on('frames')[0]), 'no map yet: no keepMap field')

    const map = { id: 'lot-a', cols: 4, rows: 3, levels: '000011110000', keep: [1, 64] }
    const set = (id: string, config: unknown) =>
      sub.client.publishAsync(`deepn/${deviceId}/config/set`, JSON.stringify({ id, config }), { qos: 1 })
    await set('r1', { encoder: { keepMap: map, motionKeep: 32 } })
    await sub.waitFor(() => sub.on('config/result').length >= 1, 10000, 'config/result r1')
    const r1 = json(sub.on('config/result')[0])
    t.match(r1, { id: 'r1', ok: true })
    t.same([...r1.applied].sort(), ['encoder.keepMap', 'encoder.motionKeep'], 'reported applied')
    await sub.waitFor(() => sub.on('config').some((m) => json(m).version === 1), 10000, 'reported config v1')
    t.same(json(sub.on('config').at(-1)!).config.encoder.keepMap, map, 'the retained config shows the map')

    await sub.waitFor(() => sub.on('frames').some((m) => metaOf(m).keepMap === 'lot-a'), 10000, 'a frame with the map')
    const mapped = sub.on('frames').find((m) => metaOf(m).keepMap === 'lot-a')!
    t.equal(mapped.properties?.userProperties?.keepMap, 'lot-a', 'also as an MQTT 5 user property')
    await sub.waitFor(
      () => sub.on('telemetry').some((m) => json(m).keepMap?.id === 'lot-a'),
      10000,
      'telemetry naming the map',
    )
    const tm = json(sub.on('telemetry').find((m) => json(m).keepMap?.id === 'lot-a')!)
    // 4 of 12 cells are level 1 (64 kept); motion raises others only to 32: the share is 1/3 (3 decimals)
    t.equal(tm.keepMap.fullShare, 0.333, 'the share of cells kept in full')

    const bad: [string, unknown, RegExp][] = [
      ['b1', { ...map, levels: '00001111000' }, /'encoder\.keepMap\.levels' must have 12 characters/],
      ['b2', { ...map, id: 'constructor' }, /'encoder\.keepMap\.id' cannot be 'constructor'/],
      ['b3', { ...map, keep: [1, 80] }, /'encoder\.keepMap\.keep\[1\]' must be an integer 0\.\.64/],
      ['b4', { ...map, rows: 3, tint: 'red' }, /'encoder\.keepMap\.tint' is not a field/],
    ]
    for (const [id, keepMap] of bad) await set(id, { encoder: { keepMap, motionKeep: 1 } })
    await sub.waitFor(() => sub.on('config/result').length >= 1 + bad.length, 10000, 'the refusals')
    const results = sub.on('config/result').map(json)
    for (const [id, , re] of bad) {
      const r = results.find((x) => x.id === id)
      t.equal(r?.ok, false, `${id} refused`)
      t.match(r?.error, re, `${id}: ${r?.error}`)
    }
    t.equal(agent.version, 1, 'nothing applied: the version stays')
    t.same(agent.config.encoder.keepMap, map, 'the old map is in force')
    t.equal(agent.config.encoder.motionKeep, 32, 'and the rest of a refused request is not applied either')
    const seen = sub.on('frames').length
    await sub.waitFor(() => sub.on('frames').length >= seen + 2, 10000, 'frames after the refusals')
    t.ok(
      sub
        .on('frames')
        .slice(seen)
        .every((m) => metaOf(m).keepMap === 'lot-a'),
      'later frames still carry the old map',
    )

    await set('r2', { encoder: { keepMap: null } })
    await sub.waitFor(() => sub.on('config/result').some((m) => json(m).id === 'r2'), 10000, 'config/result r2')
    const cleared = sub.on('frames').length
    await sub.waitFor(() => sub.on('frames').length >= cleared + 3, 10000, 'frames after clearing')
    t.notOk('keepMap' in metaOf(sub.on('frames').at(-1)!), 'map cleared: frames carry no keepMap')
  },
)

/** djpeg's luma plane (`-grayscale`): what a DC-only block decodes to, one value per 8x8 block. */
function djpegLuma(jpeg: Buffer) {
  return parsePnm(execFileSync('djpeg', ['-grayscale', '-pnm'], { input: jpeg, stdio: ['pipe', 'pipe', 'pipe'] }))
}

const W = 320
const H = 240

/**
 * A fixed camera's frames as PPM files: a busy static background (costly in AC coefficients) and a bright
 * checkered square moving 24 pixels right per frame.
 */
function writeScene(dir: string, frames: number): void {
  for (let n = 0; n < frames; n++) {
    const rgb = new Uint8Array(W * H * 3)
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++) {
        const inSquare = x >= 40 + n * 24 && x < 88 + n * 24 && y >= 96 && y < 144
        const v = inSquare ? (((x >> 2) ^ (y >> 2)) & 1 ? 250 : 180) : 40 + ((x * x + y * 7 + ((x * y) >> 3)) % 90)
        rgb.set([v, (v * 3) >> 2, 255 - v], (y * W + x) * 3)
      }
    writeFileSync(
      join(dir, `f${String(n).padStart(3, '0')}.ppm`),
      Buffer.concat([Buffer.from(`P6\n${W} ${H}\n255\n`), rgb]),
    )
  }
}

t.test('a DC-only map makes smaller frames djpeg decodes flat; motion raises where something moves', async (t) => {
  const broker = await startMosquitto()
  t.teardown(() => broker.stop())
  const scene = mkdtempSync(join(tmpdir(), 'deepn-scene-'))
  const N = 6
  writeScene(scene, N)
  const id = suffix()
  const dcOnly = { id: 'dc', cols: 8, rows: 6, levels: '0'.repeat(48), keep: [1] }
  const runs = [
    ['pl', {}],
    ['dc', { encoder: { keepMap: dcOnly, motionKeep: 0 } }],
    ['mo', { encoder: { keepMap: dcOnly, motionKeep: 64 } }],
  ] as const
  const sizes: Record<string, number[]> = {}
  for (const [name, extra] of runs) {
    const deviceId = `km-${name}-${id}` // equal lengths: equal metadata stamps
    const sub = await subscribe(broker.url, [`deepn/${deviceId}/frames`])
    const agent = agentFor(broker.url, deviceId, [W, H], {
      ...extra,
      encoder: { table: '', quality: 90, ...('encoder' in extra ? extra.encoder : {}) },
      capture: { source: 'files', filesDir: scene, filesLoop: false, maxFrames: N },
    })
    await agent.start()
    await sub.waitFor(() => sub.on('frames').length >= N, 30000, `${name}: ${N} frames`)
    await agent.stop()
    await sub.close()
    const frames = sub.on('frames').sort((a, b) => (metaOf(a).seq as number) - (metaOf(b).seq as number))
    sizes[name] = frames.map((m) => m.payload.length)
    for (const m of frames) {
      const luma = djpegLuma(m.payload)
      t.same([luma.width, luma.height], [W, H], `${name} seq ${metaOf(m).seq}: djpeg decodes it`)
      t.equal(metaOf(m).keepMap, name === 'pl' ? undefined : 'dc', `${name}: keepMap in the metadata`)
      if (name !== 'dc') continue
      let notFlat = 0
      for (let y = 0; y < H; y++)
        for (let x = 0; x < W; x++) if (luma.data[y * W + x] !== luma.data[(y & ~7) * W + (x & ~7)]) notFlat++
      t.equal(notFlat, 0, `dc seq ${metaOf(m).seq}: every 8x8 luma block decodes to one value`)
    }
  }
  const { pl, dc, mo } = sizes
  t.comment(`bytes per frame: plain ${pl}, DC only ${dc}, DC only + motion ${mo}`)
  for (let i = 0; i < N; i++) t.ok(dc[i] * 3 < pl[i], `seq ${i + 1}: DC only ${dc[i]} < a third of plain ${pl[i]}`)
  t.equal(mo[0], dc[0], 'first frame: background only, motion raises nothing')
  for (let i = 1; i < N; i++)
    t.ok(mo[i] > dc[i] && mo[i] < pl[i], `seq ${i + 1}: ${dc[i]} < motion ${mo[i]} < ${pl[i]}`)
})
