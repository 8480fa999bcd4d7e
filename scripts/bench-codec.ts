/**
 * Encoder benchmark: the same raw RGB frames (a natural photo resized to 640x480 and 1920x1080) encoded in one
 * run by ours (islow 4:2:0 and 4:4:4 with the WebAssembly SIMD kernels, the same with the pure TypeScript path,
 * ifast 4:2:0, which has no kernel), jpeg-js (4:4:4, its only mode) and sharp/libvips
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
import type { EncodeOptions, RawImage } from '../shared/codec'
import { setWasmKernelEnabled } from '../shared/codec/wasm/kernels'

/** Our encoder with the WebAssembly kernels switched off: the pure TypeScript reference path. */
function encodeTsOnly(image: RawImage, options: EncodeOptions): Uint8Array {
  setWasmKernelEnabled(false)
  try {
    return encodeJpeg(image, options)
  } finally {
    setWasmKernelEnabled(true)
  }
}

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

interface Timing { ms: number; cpu: number; best: number; bytes: number }
type Encoder = () => Uint8Array | Promise<Uint8Array>

/**
 * Runs the encoders round-robin (`warmup` untimed rounds, then `runs` timed rounds) so every encoder sees the
 * same machine conditions, and reports per encoder: median wall ms, median process CPU ms (user + system over
 * all threads: fair to sharp's worker thread, and unaffected by CPU throttling of a shared box) and the best
 * wall ms.
 */
async function roundRobin(encoders: [string, Encoder][], runs: number, warmup: number): Promise<[string, Timing][]> {
  const ms = encoders.map((): number[] => [])
  const cpu = encoders.map((): number[] => [])
  const bytes = encoders.map(() => 0)
  for (let round = 0; round < warmup + runs; round++) {
    for (let e = 0; e < encoders.length; e++) {
      const c0 = process.cpuUsage()
      const t0 = process.hrtime.bigint()
      const out = await encoders[e][1]()
      const wall = Number(process.hrtime.bigint() - t0) / 1e6
      const c = process.cpuUsage(c0)
      bytes[e] = out.length
      if (round >= warmup) {
        ms[e].push(wall)
        cpu[e].push((c.user + c.system) / 1000)
        sampleMemory()
      }
    }
  }
  return encoders.map(([name], e) => [name, { ms: median(ms[e]), cpu: median(cpu[e]), best: Math.min(...ms[e]), bytes: bytes[e] }])
}

export async function main(argv: string[] = process.argv.slice(2)): Promise<number> {
  void argv
  const runs = Number(arg('runs', '11'))
  const quality = Number(arg('quality', '75'))
  const photo = arg('photo', join(PHOTO_DIR, readdirSync(PHOTO_DIR).filter((f) => f.endsWith('.jpg')).sort()[0]))
  sharp.concurrency(1)
  sharp.cache(false)
  console.log(`codec benchmark: ${photo}, quality ${quality}, ${runs} round-robin runs after warm-up, Node ${process.version}, single thread`)
  for (const [w, h] of [[640, 480], [1920, 1080]]) {
    const f = await loadFrame(photo, w, h)
    const warmup = w > 1000 ? 5 : 15
    const image: RawImage = { width: f.width, height: f.height, data: f.rgb, format: 'rgb' }
    const sharpEnc = (sub: '4:2:0' | '4:4:4') => () => sharp(f.rgb, { raw: { width: f.width, height: f.height, channels: 3 } })
      .jpeg({ quality, optimiseCoding: false, mozjpeg: false, chromaSubsampling: sub, trellisQuantisation: false, overshootDeringing: false, optimiseScans: false })
      .toBuffer()
    const rows = await roundRobin([
      ['ours islow 4:2:0', () => encodeJpeg(image, { quality, subsampling: '420' })],
      ['ours ifast 4:2:0', () => encodeJpeg(image, { quality, subsampling: '420', dct: 'ifast' })],
      ['ours islow 4:4:4', () => encodeJpeg(image, { quality, subsampling: '444' })],
      ['ours islow 4:2:0, TS only', () => encodeTsOnly(image, { quality, subsampling: '420' })],
      ['ours islow 4:4:4, TS only', () => encodeTsOnly(image, { quality, subsampling: '444' })],
      ['jpeg-js 4:4:4', () => jpegJs.encode({ data: f.rgba, width: f.width, height: f.height }, quality).data],
      ['sharp (libjpeg-turbo SIMD) 4:2:0', sharpEnc('4:2:0')],
      ['sharp (libjpeg-turbo SIMD) 4:4:4', sharpEnc('4:4:4')],
    ], runs, warmup)
    console.log(`\n${f.name.padEnd(36)} median wall   median CPU   best wall  (ms/frame)      size`)
    for (const [name, r] of rows) {
      console.log(`  ${name.padEnd(34)} ${r.ms.toFixed(2).padStart(11)} ${r.cpu.toFixed(2).padStart(12)} ${r.best.toFixed(2).padStart(11)} ${(r.bytes / 1024).toFixed(1).padStart(16)} KiB`)
    }
    const get = (n: string): Timing => rows.find(([k]) => k === n)![1]
    const ratio = (a: string, b: string): string => {
      const x = get(a), y = get(b)
      return `median wall ${(x.ms / y.ms).toFixed(2)}x, median CPU ${(x.cpu / y.cpu).toFixed(2)}x, best wall ${(x.best / y.best).toFixed(2)}x`
    }
    console.log(`  jpeg-js / ours, 4:4:4 (speed-up, target ≥ 5):    ${ratio('jpeg-js 4:4:4', 'ours islow 4:4:4')}`)
    console.log(`  ours / sharp, 4:2:0 (slow-down, target ≤ 2):     ${ratio('ours islow 4:2:0', 'sharp (libjpeg-turbo SIMD) 4:2:0')}`)
    console.log(`  ours / sharp, 4:4:4 (slow-down):                 ${ratio('ours islow 4:4:4', 'sharp (libjpeg-turbo SIMD) 4:4:4')}`)
  }
  console.log(`\npeak RSS ${(peakRss / 2 ** 20).toFixed(1)} MiB, peak JS heap ${(peakHeap / 2 ** 20).toFixed(1)} MiB (whole process, includes sharp/libvips)`)
  return 0
}

if (require.main === module) {
  main().then((code) => { process.exitCode = code }, (err: unknown) => { console.error(err); process.exitCode = 1 })
}
