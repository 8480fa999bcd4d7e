'use strict'
// Capture benchmark (npm run bench:capture): medians over repeated runs, with ratios against peers measured in the
// same run. Uses the built output in dist/ and the fake cameras in test/fixtures/bin.
const { execFileSync, spawnSync } = require('node:child_process')
const path = require('node:path')
const root = path.resolve(__dirname, '../..')
const sharp = require(path.join(root, 'node_modules/sharp'))
const { syntheticFrame, createSource } = require(path.join(root, 'dist/agent/capture'))
const { packI420, layoutForStride } = require(path.join(root, 'dist/agent/capture/i420'))
const { decodeImageFile } = require(path.join(root, 'dist/agent/image-files/decode'))
const { i420, bmp24 } = require('../../test/fixtures/capture/fakecam.js')

process.env.PATH = `${path.join(root, 'test/fixtures/bin')}${path.delimiter}${process.env.PATH}`
const W = 1920,
  H = 1080

function median(xs) {
  const s = [...xs].sort((a, b) => a - b)
  return s[s.length >> 1]
}
async function time(fn, runs) {
  const ms = []
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint()
    await fn(i)
    ms.push(Number(process.hrtime.bigint() - t0) / 1e6)
  }
  return median(ms)
}
const rows = []
function report(name, ms, peerName, peerMs) {
  rows.push({ name, ms, peerName, peerMs })
  console.log(
    `${name.padEnd(44)} ${ms.toFixed(2).padStart(9)} ms${peerName ? `   ${(ms / peerMs).toFixed(2)}x ${peerName} (${peerMs.toFixed(2)} ms)` : ''}`,
  )
}

;(async () => {
  console.log(`capture benchmark, ${W}x${H}, node ${process.version}, medians`)
  const rgbBytes = W * H * 3
  const src = Buffer.alloc(rgbBytes, 7)
  const copyMs = await time(() => Buffer.from(src), 30)
  report('copy one RGB frame (peer)', copyMs)
  report('synthetic frame', await time((i) => syntheticFrame(W, H, i), 15), 'RGB copy', copyMs)

  const padded = i420(W, H, 1920, 3) // 1920 is 64-aligned already: use 1984 to force padding
  const padded2 = i420(W, H, 1984, 3)
  const packedCopy = await time(() => Buffer.from(padded), 30)
  report('copy packed I420 (peer)', packedCopy)
  report(
    'strip 64-byte stride padding (stride 1984)',
    await time(() => packI420(padded2, layoutForStride(W, H, 1984)), 30),
    'I420 copy',
    packedCopy,
  )

  const frame = syntheticFrame(W, H, 1)
  const jpg = await sharp(Buffer.from(frame.data), { raw: { width: W, height: H, channels: 3 } })
    .jpeg({ quality: 90 })
    .toBuffer()
  const sharpMs = await time(() => sharp(jpg).raw().toBuffer(), 10)
  report('JPEG decode: sharp/libjpeg-turbo (peer)', sharpMs)
  const djpegMs = await time(() => execFileSync('djpeg', ['-pnm'], { input: jpg, maxBuffer: 64 << 20 }), 10)
  report('JPEG decode: djpeg process (peer)', djpegMs, 'sharp', sharpMs)
  report('JPEG decode: decodeImageFile (jpeg-js)', await time(() => decodeImageFile(jpg), 10), 'djpeg process', djpegMs)

  const bmp = bmp24(W, H)
  const ppm = Buffer.concat([Buffer.from(`P6\n${W} ${H}\n255\n`), Buffer.from(frame.data)])
  const ppmMs = await time(() => decodeImageFile(ppm), 20)
  report('PPM decode (header parse, pixels are a view)', ppmMs, 'RGB copy', copyMs)
  report('BMP decode (bottom-up BGR → RGB)', await time(() => decodeImageFile(bmp), 20), 'RGB copy', copyMs)

  const spawnMs = await time(() => spawnSync(process.execPath, ['-e', '']), 10)
  report('spawn an empty node process (peer)', spawnMs)
  const still = createSource({ source: 'rpicam', width: W, height: H, warmupMs: 1, retry: false })
  report('rpicam-still capture (fake camera, node)', await time(() => still.capture(), 10), 'empty node spawn', spawnMs)
  const rasp = createSource({ source: 'raspistill', width: W, height: H, warmupMs: 1, retry: false })
  report('raspistill capture (fake camera, BMP)', await time(() => rasp.capture(), 10), 'empty node spawn', spawnMs)

  const vid = createSource({
    source: 'rpicam',
    rpicam: { mode: 'vid', framerate: 30 },
    width: W,
    height: H,
    retry: false,
  })
  await vid.capture()
  report('rpicam-vid capture at 30 fps (fake stream)', await time(() => vid.capture(), 20), 'frame period', 1000 / 30)
  await vid.close()
})().catch((err) => {
  console.error(err)
  process.exitCode = 1
})
