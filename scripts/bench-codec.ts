/**
 * Encoder benchmark: the same raw RGB frames (a natural photo resized to 640x480 and 1920x1080) encoded in one
 * run by ours (islow 4:2:0 and 4:4:4, ifast 4:2:0), jpeg-js (4:4:4, its only mode) and sharp/libvips
 * (libjpeg-turbo-compatible SIMD encoder, 4:2:0 and 4:4:4, no optimised coding, one thread). Prints medians in
 * ms/frame, ratios against the peers and peak memory. Timing targets live here, never in tests.
 *
 *   npm run bench:codec [-- --runs 15 --quality 75 --photo /path.jpg]
 */
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import jpegJs from 'jpeg-js'
import sharp from 'sharp'
import { encodeJpeg } from '../shared/codec'

const PHOTO_DIR = '/usr/share/backgrounds/mate/nature'

interface Frame { name: string; width: number; height: number; rgb: Uint8Array; rgba: Uint8Array }

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback
}

async function loadFrame(photo: string, width: number, height: number): Promise<Frame> {
  const { data, info } = await sharp(photo).resize(width, height, { fit: 'cover' }).removeAlpha().raw().toBuffer({ resolveWithObject: true })
  const rgb = new Uint8Array(data.buffer, data.byteOffset, data.length)
  const rgba = new Uint8Array(width * height * 4)
  for (let i = 0, j = 0; i < rgb.length; i += 3, j += 4) {
    rgba[j] = rgb[i]; rgba[j + 1] = rgb[i + 1]; rgba[j + 2] = rgb[i + 2]; rgba[j + 3] = 255
  }
  return { name: `${info.width}x${info.height}`, width: info.width, height: info.height, rgb, rgba }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

let peakRss = 0
let peakHeap = 0
function sampleMemory(): void {
  const m = process.memoryUsage()
  peakRss = Math.max(peakRss, m.rss)
  peakHeap = Math.max(peakHeap, m.heapUsed)
}

/** Median ms of `runs` timed calls after `warmup` untimed ones; also returns the output size. */
async function time(fn: () => Uint8Array | Promise<Uint8Array>, runs: number, warmup: number): Promise<{ ms: number; bytes: number }> {
  let bytes = 0
  for (let i = 0; i < warmup; i++) bytes = (await fn()).length
  const ms: number[] = []
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint()
    const out = await fn()
    ms.push(Number(process.hrtime.bigint() - t0) / 1e6)
    bytes = out.length
    sampleMemory()
  }
  return { ms: median(ms), bytes }
}

export async function main(argv: string[] = process.argv.slice(2)): Promise<number> {
  void argv
  const runs = Number(arg('runs', '11'))
  const quality = Number(arg('quality', '75'))
  const photo = arg('photo', join(PHOTO_DIR, readdirSync(PHOTO_DIR).filter((f) => f.endsWith('.jpg')).sort()[0]))
  sharp.concurrency(1)
  sharp.cache(false)
  console.log(`codec benchmark: ${photo}, quality ${quality}, median of ${runs} runs after warm-up, Node ${process.version}, single thread`)
  for (const [w, h] of [[640, 480], [1920, 1080]]) {
    const f = await loadFrame(photo, w, h)
    const warmup = w > 1000 ? 3 : 10
    const image = { width: f.width, height: f.height, data: f.rgb, format: 'rgb' as const }
    const sharpEnc = (sub: '4:2:0' | '4:4:4') => () => sharp(f.rgb, { raw: { width: f.width, height: f.height, channels: 3 } })
      .jpeg({ quality, optimiseCoding: false, mozjpeg: false, chromaSubsampling: sub, trellisQuantisation: false, overshootDeringing: false, optimiseScans: false })
      .toBuffer()
    const rows: [string, { ms: number; bytes: number }][] = []
    rows.push(['ours islow 4:2:0', await time(() => encodeJpeg(image, { quality, subsampling: '420' }), runs, warmup)])
    rows.push(['ours ifast 4:2:0', await time(() => encodeJpeg(image, { quality, subsampling: '420', dct: 'ifast' }), runs, warmup)])
    rows.push(['ours islow 4:4:4', await time(() => encodeJpeg(image, { quality, subsampling: '444' }), runs, warmup)])
    rows.push(['jpeg-js 4:4:4', await time(() => jpegJs.encode({ data: f.rgba, width: f.width, height: f.height }, quality).data, runs, Math.min(warmup, 3))])
    rows.push(['sharp (libjpeg-turbo SIMD) 4:2:0', await time(sharpEnc('4:2:0'), runs, warmup)])
    rows.push(['sharp (libjpeg-turbo SIMD) 4:4:4', await time(sharpEnc('4:4:4'), runs, warmup)])
    console.log(`\n${f.name}`)
    for (const [name, r] of rows) console.log(`  ${name.padEnd(34)} ${r.ms.toFixed(2).padStart(8)} ms/frame  ${(r.bytes / 1024).toFixed(1).padStart(7)} KiB`)
    const get = (n: string): number => rows.find(([k]) => k === n)![1].ms
    console.log(`  ratio jpeg-js / ours (4:4:4):            ${(get('jpeg-js 4:4:4') / get('ours islow 4:4:4')).toFixed(2)}x faster (target ≥ 5x)`)
    console.log(`  ratio ours / sharp (4:2:0):              ${(get('ours islow 4:2:0') / get('sharp (libjpeg-turbo SIMD) 4:2:0')).toFixed(2)}x the SIMD time (target ≤ 2x)`)
    console.log(`  ratio ours / sharp (4:4:4):              ${(get('ours islow 4:4:4') / get('sharp (libjpeg-turbo SIMD) 4:4:4')).toFixed(2)}x`)
  }
  console.log(`\npeak RSS ${(peakRss / 2 ** 20).toFixed(1)} MiB, peak JS heap ${(peakHeap / 2 ** 20).toFixed(1)} MiB (whole process, includes sharp/libvips)`)
  return 0
}

if (require.main === module) {
  main().then((code) => { process.exitCode = code }, (err: unknown) => { console.error(err); process.exitCode = 1 })
}
