import t from 'tap'
import { deriveI420Layout, layoutForStride, packI420, packedI420Bytes } from '../../agent/capture/i420'

/** A padded frame whose padding bytes are 0xEE and whose pixels encode their plane and position. */
function padded(w: number, h: number, stride: number, trailing = 0): { buf: Uint8Array; expect: Uint8Array } {
  const cw = Math.ceil(w / 2),
    ch = Math.ceil(h / 2),
    cs = stride / 2
  const buf = new Uint8Array(stride * h + 2 * cs * ch + trailing).fill(0xee)
  const expect: number[] = []
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const v = (x + 3 * y) % 200
      buf[y * stride + x] = v
      expect.push(v)
    }
  const u = stride * h,
    v = u + cs * ch
  for (const [base, add] of [
    [u, 7],
    [v, 13],
  ]) {
    for (let y = 0; y < ch; y++)
      for (let x = 0; x < cw; x++) {
        const s = (x * 2 + y + add) % 200
        buf[base + y * cs + x] = s
        expect.push(s)
      }
  }
  return { buf, expect: Uint8Array.from(expect) }
}

t.test('stride padding is stripped, never treated as pixels', async (t) => {
  for (const [w, h] of [
    [100, 50],
    [640, 480],
    [98, 30],
    [1920, 1080],
  ]) {
    const stride = Math.ceil(w / 64) * 64
    const { buf, expect } = padded(w, h, stride)
    const layout = deriveI420Layout(buf.length, w, h)
    t.equal(layout?.strideY, stride, `${w}x${h}: stride derived from the buffer size`)
    const img = packI420(buf, layout!)
    t.equal(img.format, 'yuv420p')
    t.equal(img.data.length, packedI420Bytes(w, h))
    t.ok(Buffer.from(img.data).equals(Buffer.from(expect)), `${w}x${h}: packed pixels exact`)
    t.notOk(img.data.includes(0xee), 'no padding byte leaked')
  }
})

t.test('odd sizes: chroma planes are ceil(w/2) x ceil(h/2)', async (t) => {
  t.equal(packedI420Bytes(5, 3), 15 + 2 * 3 * 2)
  const { buf, expect } = padded(37, 21, 64)
  const img = packI420(buf, layoutForStride(37, 21, 64))
  t.equal(img.data.length, 37 * 21 + 2 * 19 * 11)
  t.ok(Buffer.from(img.data).equals(Buffer.from(expect)))
  // A packed odd-sized buffer is recognised as packed.
  t.equal(deriveI420Layout(packedI420Bytes(37, 21), 37, 21)?.strideY, 37)
})

t.test('packed frames pass through; trailing buffer slack is tolerated', async (t) => {
  const packedLayout = deriveI420Layout(640 * 480 * 1.5, 640, 480)
  t.same(packedLayout && [packedLayout.strideY, packedLayout.strideC], [640, 320])
  const { buf, expect } = padded(100, 50, 128, 1000)
  const layout = deriveI420Layout(buf.length, 100, 50)
  t.equal(layout?.strideY, 128)
  t.equal(layout?.frameBytes, buf.length)
  t.ok(Buffer.from(packI420(buf, layout!).data).equals(Buffer.from(expect)))
})

t.test('sizes that fit no layout, and short buffers, are errors', async (t) => {
  t.equal(deriveI420Layout(12345, 640, 480), null)
  t.equal(deriveI420Layout(100, 640, 480), null)
  t.throws(() => layoutForStride(640, 480, 600), /stride 600 is smaller than the width 640/)
  t.throws(
    () => packI420(new Uint8Array(1000), layoutForStride(64, 64, 64)),
    /I420 frame truncated: 1000 of 6144 bytes/,
  )
})
