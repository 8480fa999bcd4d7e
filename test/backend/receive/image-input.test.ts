/**
 * Frames are decoded with libjpeg-turbo (sharp) where installed and jpeg-js elsewhere: both must give the model
 * the same input, up to the decoders' rounding (IDCT, chroma upsampling).
 */
import { spawnSync } from 'node:child_process'
import t from 'tap'
import {
  checkDecodes,
  decodeRgb,
  defaultDecoder,
  jpegToNchw,
  resizeArea,
  rgbToNchw,
} from '../../../scripts/backend/receive/image-input'
import { makeFrame } from './helpers/frames'

/** A smooth 320x240 photo-like gradient through cjpeg: 4:2:0, libjpeg's own encoder, as cameras produce. */
function cameraLikeJpeg(): Buffer {
  const w = 320
  const h = 240
  const rgb = Buffer.alloc(w * h * 3)
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = (y * w + x) * 3
      rgb[i] = (x * 255) / w
      rgb[i + 1] = (y * 255) / h
      rgb[i + 2] = 128 + 100 * Math.sin((x + y) / 20)
    }
  }
  const r = spawnSync('cjpeg', ['-quality', '85', '-sample', '2x2'], {
    input: Buffer.concat([Buffer.from(`P6\n${w} ${h}\n255\n`), rgb]),
  })
  if (r.status !== 0) throw new Error(`cjpeg failed: ${r.stderr}`)
  return r.stdout
}

t.test('sharp is the default decoder here (a backend dependency)', async (t) => {
  t.equal(defaultDecoder(), 'sharp')
})

for (const [name, jpeg] of [
  ['cjpeg 4:2:0', cameraLikeJpeg()],
  ['jpeg-js 4:4:4', makeFrame({ deviceId: 'a', seq: 3, width: 96, height: 64 })],
  ['jpeg-js 640x480', makeFrame({ deviceId: 'a', seq: 5, width: 640, height: 480 })],
] as const) {
  t.test(`${name}: libjpeg-turbo and jpeg-js decode to the same pixels and model input, within rounding`, async (t) => {
    const [turbo, js] = await Promise.all([decodeRgb(jpeg, 'sharp'), decodeRgb(jpeg, 'jpeg-js')])
    t.same([turbo.width, turbo.height], [js.width, js.height])
    t.equal(turbo.data.length, js.width * js.height * 3, 'RGB, 3 bytes a pixel')
    let sum = 0
    let max = 0
    for (let k = 0; k < js.data.length; k++) {
      const d = Math.abs(turbo.data[k] - js.data[k])
      sum += d
      max = Math.max(max, d)
    }
    const mean = sum / js.data.length
    t.ok(mean < 1.5, `mean pixel difference ${mean.toFixed(2)} levels`)
    t.ok(max <= 24, `largest pixel difference ${max} levels (chroma upsampling at colour edges)`)
    // 28x28 and 24x32: sharp decodes a large frame at a reduced scale first (shrink-on-load)
    for (const shape of [
      { channels: 1, height: 28, width: 28 },
      { channels: 3, height: 24, width: 32 },
      { channels: 1, height: 8, width: 8 },
    ] as const) {
      const [a, b] = await Promise.all([jpegToNchw(jpeg, shape, 'sharp'), jpegToNchw(jpeg, shape, 'jpeg-js')])
      const worst = a.reduce((m, v, k) => Math.max(m, Math.abs(v - b[k])), 0)
      t.ok(
        worst < 2 / 255,
        `${shape.channels}x${shape.height}x${shape.width} input: largest difference ${(worst * 255).toFixed(2)} / 255`,
      )
    }
  })
}

t.test('the fused resize equals gray-then-resizeArea per plane', async (t) => {
  const img = await decodeRgb(cameraLikeJpeg(), 'jpeg-js')
  const n = img.width * img.height
  const gray = new Float32Array(n)
  for (let p = 0; p < n; p++)
    gray[p] = 0.299 * img.data[3 * p] + 0.587 * img.data[3 * p + 1] + 0.114 * img.data[3 * p + 2]
  const expected = resizeArea(gray, img.width, img.height, 28, 28).map((v) => v / 255)
  const got = rgbToNchw(img, { channels: 1, height: 28, width: 28 })
  t.ok(
    got.every((v, k) => Math.abs(v - expected[k]) < 1e-5),
    'same values up to float rounding',
  )
})

t.test('--decode refuses what libjpeg-turbo cannot decode cleanly, naming why', async (t) => {
  const good = makeFrame({ deviceId: 'a', seq: 1, width: 64, height: 48 })
  await t.resolves(checkDecodes(good))
  const damaged = Buffer.from(good)
  for (let i = good.length - 1500; i < good.length - 1400; i++) damaged[i] = (i * 37) & 0xff // garbage in the scan
  await t.rejects(checkDecodes(damaged), /^JPEG does not decode: Corrupt JPEG data: premature end of data segment$/)
})
