/**
 * The on-device calibration collector on synthetic frames whose DCT statistics are known in closed form, its
 * N-frames / T-seconds stopping rule, colour frames, errors, and `deepn calibrate` end to end on the synthetic camera.
 */
import t from 'tap'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseTableFile } from '../../shared/codec/tables'
import { formatTableJson } from '../../shared/codec/table-format'
import type { RawImage } from '../../shared/codec/types'
import { CalibrationCollector } from '../../agent/calibration/collector'
import { main as calibrate } from '../../agent/commands/calibrate'

/** A gray frame of 8x8 blocks, block i filled with 128 + (i even ? +d : -d): DC = ±8d, every AC exactly 0. */
function flatBlocks(w: number, h: number, d: number): RawImage {
  const data = new Uint8Array(w * h)
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const b = (y >> 3) * (w >> 3) + (x >> 3)
      data[y * w + x] = 128 + (b % 2 === 0 ? d : -d)
    }
  return { width: w, height: h, format: 'gray', data }
}

/** A checkerboard of ±a around 128, sign flipping per block: zero-mean blocks of energy 64a². */
function checkers(w: number, h: number, a: number): RawImage {
  const data = new Uint8Array(w * h)
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const b = (y >> 3) * (w >> 3) + (x >> 3)
      data[y * w + x] = 128 + ((x + y + (b % 2)) % 2 === 0 ? a : -a)
    }
  return { width: w, height: h, format: 'gray', data }
}

t.test('σ of a known pattern: DC only, exactly 8d', async (t) => {
  const c = new CalibrationCollector({ frames: 3 })
  for (let i = 0; i < 3; i++) c.add(flatBlocks(32, 16, 20))
  t.ok(c.done, 'done after N frames')
  const { table, report } = c.result()
  t.equal(report.frames, 3)
  t.equal(report.lumaBlocks, 3 * 8, '8 blocks per 32x16 frame')
  t.equal(report.lumaSigma[0], 160, 'σ_DC = 8d: half the blocks at +8d, half at −8d')
  t.equal(report.lumaMean[0], 0)
  t.ok(
    report.lumaSigma.slice(1).every((s) => s === 0),
    'no AC energy',
  )
  t.equal(report.chromaSigma, undefined, 'gray frames: no chroma statistics')
  parseTableFile(table, 'calibrated table')
  t.equal(table.luma[0], 5, 'high-σ DC gets the finest PLM step (qMin)')
  t.equal(table.luma[63], 255, 'σ = 0 gets the PLM intercept a = 255')
})

t.test('σ of a checkerboard: Parseval holds and the (7,7) coefficient dominates', async (t) => {
  const a = 30
  const c = new CalibrationCollector({ frames: 2 })
  c.add(checkers(64, 64, a))
  c.add(checkers(64, 64, a))
  const { report } = c.result()
  const energy = report.lumaSigma.reduce((s, v) => s + v * v, 0)
  t.ok(Math.abs(energy - 64 * a * a) / (64 * a * a) < 0.01, `Σσ² = ${energy.toFixed(0)} ≈ 64a² = ${64 * a * a}`)
  const top = report.lumaSigma.indexOf(Math.max(...report.lumaSigma))
  t.equal(top, 63, 'a one-pixel checkerboard lives at the highest frequency in both directions')
  t.ok(report.lumaSigma[63] > 0.8 * Math.sqrt(64) * a, `σ63 = ${report.lumaSigma[63]} carries most of the energy`)
})

t.test('stops after T seconds on the injected clock; colour frames give chroma σ', async (t) => {
  let now = 1000
  const c = new CalibrationCollector({
    frames: 1000,
    seconds: 2,
    now: () => now,
    subsampling: '420',
    deviceId: 'cam-7',
  })
  const rgb: RawImage = {
    width: 16,
    height: 16,
    format: 'rgb',
    data: new Uint8Array(16 * 16 * 3).map((_, i) => (i * 37) % 256),
  }
  t.notOk(c.add(rgb))
  now += 1500
  t.notOk(c.add(rgb))
  now += 600
  t.ok(c.done, 'done once 2 s passed since the first frame')
  t.ok(c.add(rgb), 'further frames are ignored')
  const { table, report } = c.result()
  t.equal(report.frames, 2)
  t.equal(report.seconds, 1.5)
  t.equal(report.deviceId, 'cam-7')
  t.equal(table.id, 'calibrated-cam-7')
  t.equal(report.lumaBlocks, 2 * 4)
  t.equal(report.chromaBlocks, 2 * 2, '4:2:0: one Cb and one Cr block per 16x16 frame')
  t.equal(report.chromaSigma?.length, 64)
})

t.test('bad input and empty results are named', async (t) => {
  t.throws(() => new CalibrationCollector({ frames: 0 }), /frames must be an integer >= 1/)
  t.throws(() => new CalibrationCollector({ seconds: -1 }), /seconds must be > 0/)
  const c = new CalibrationCollector()
  t.throws(() => c.result(), /collected no frames/)
  t.throws(() => c.add({ width: 8, height: 8, format: 'gray', data: new Uint8Array(10) }), /image\.data: 10 bytes/)
})

t.test('deepn calibrate on the synthetic camera writes a valid table and σ report', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'deepn-calibrate-'))
  const cfg = join(dir, 'agent.json')
  writeFileSync(cfg, JSON.stringify({ deviceId: 'bench-cam', capture: { source: 'synthetic', width: 48, height: 32 } }))
  const out = join(dir, 'table.json')
  const rep = join(dir, 'sigma.json')
  const code = await calibrate(['--config', cfg, '--frames', '4', '--out', out, '--report', rep])
  t.equal(code, 0)
  const text = readFileSync(out, 'utf8')
  t.equal(text, formatTableJson(JSON.parse(text)), 'the layout tables build and optimize write (8 rows of 8)')
  const table = parseTableFile(text, out)
  t.equal(table.id, 'calibrated-bench-cam')
  t.equal((table.source as { frames: number }).frames, 4)
  const report = JSON.parse(readFileSync(rep, 'utf8')) as {
    frames: number
    lumaBlocks: number
    lumaSigma: number[]
    chromaSigma: number[]
  }
  t.equal(report.frames, 4)
  t.equal(report.lumaBlocks, 4 * 6 * 4)
  t.equal(report.lumaSigma.length, 64)
  t.ok(
    report.lumaSigma.some((s) => s > 0),
    'the synthetic pattern has texture',
  )
  t.equal(report.chromaSigma.length, 64)
  await t.rejects(calibrate(['--frames', 'x']), /--frames must be a positive number/)
})
