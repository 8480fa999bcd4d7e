/**
 * The two-pass buffer (frame-blocks.ts): blocks packed up to their last non-zero coefficient read back as the
 * rows that made them, across frames that reuse the kept buffers; and what packing saves on a photo.
 * The byte-exact suites (cjpeg-exact, progressive) check the files the packed blocks make.
 */
import t from 'tap'
import { CoefficientMaker, resolveOptions } from '../../shared/codec/encoder'
import { frameBlocks, type RowMaker } from '../../shared/codec/frame-blocks'
import { frameLayout } from '../../shared/codec/layout'
import { photos } from './helpers'

/** Rows of blocks with a chosen last non-zero index each (-1: all zero, DC included); values depend on frame. */
function fakeMaker(lastOf: (block: number) => number, frame: number, blocksPerRow: number): RowMaker {
  const last = new Int8Array(blocksPerRow)
  const coef = new Int16Array(blocksPerRow * 64)
  return {
    last,
    row(row: number): Int16Array {
      coef.fill(0)
      for (let i = 0; i < blocksPerRow; i++) {
        const b = row * blocksPerRow + i
        const l = lastOf(b)
        last[i] = l
        for (let k = 0; k <= l; k++) coef[i * 64 + k] = ((b * 7 + k * 13 + frame) % 201) - 100 || 1
      }
      return coef
    },
  }
}

/** Block b's 64 coefficients as read back from the packed store (zero past last[b]). */
function readBack(p: ReturnType<typeof frameBlocks>, b: number): number[] {
  const out = new Array(64).fill(0)
  for (let k = 0; k <= Math.max(0, p.last[b]); k++) out[k] = p.coef[p.start[b] + k]
  return out
}

t.test('packed blocks read back as made, across frames that reuse the buffers', async (t) => {
  const blocksPerRow = 12
  const rows = 5
  const frames: [string, (b: number) => number][] = [
    ['sparse', (b) => (b % 5 === 0 ? -1 : b % 3)],
    ['dense', () => 63],
    ['mixed', (b) => (b * 11) % 64],
  ]
  for (const [f, [name, lastOf]] of frames.entries()) {
    const packed = frameBlocks(fakeMaker(lastOf, f, blocksPerRow), blocksPerRow, rows)
    const reference = fakeMaker(lastOf, f, blocksPerRow)
    let bad = 0
    for (let row = 0; row < rows; row++) {
      const made = reference.row(row)
      for (let i = 0; i < blocksPerRow; i++) {
        const b = row * blocksPerRow + i
        const want = Array.from(made.subarray(i * 64, i * 64 + 64))
        if (readBack(packed, b).join() !== want.join() || packed.last[b] !== reference.last[i]) bad++
      }
    }
    t.equal(bad, 0, `${name}: every block reads back`)
    t.equal(packed.last.length, blocksPerRow * rows)
    // each block takes its coefficients up to last (at least the DC), and no block overlaps the next
    let overlaps = 0
    for (let b = 1; b < packed.start.length; b++)
      if (packed.start[b] - packed.start[b - 1] !== Math.max(1, packed.last[b - 1] + 1)) overlaps++
    t.equal(overlaps, 0, `${name}: blocks packed end to end`)
  }
})

t.test('a photo at quality 50 keeps well under a third of the 64 coefficients per block', async (t) => {
  for (const photo of photos().slice(0, 3)) {
    const layout = frameLayout(photo.width, photo.height, photo.format, '420')
    const maker = new CoefficientMaker(photo, layout, resolveOptions(photo, { quality: 50, subsampling: '420' }))
    const packed = frameBlocks(maker, layout.mcusPerRow * layout.blocksInMcu, layout.mcuRows)
    const blocks = packed.last.length
    const used = packed.start[blocks - 1] + Math.max(1, packed.last[blocks - 1] + 1)
    t.ok(
      used < (blocks * 64) / 3,
      `${photo.width}x${photo.height}: ${used} coefficients kept for ${blocks} blocks (${(used / blocks).toFixed(1)} each)`,
    )
  }
})
