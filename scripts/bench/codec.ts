/**
 * Encoder benchmark against libjpeg-turbo itself. The anchor is its own `tjbench` (package libjpeg-turbo-progs):
 * in memory, colour conversion included, one thread, compression only, islow DCT, standard Huffman tables —
 * the same work our encoder does, on the same frame (a natural photo resized to 640x480 and 1920x1080, written
 * as a PPM for tjbench). Rows: ours (WebAssembly SIMD kernels; 4:2:0, 4:4:4, yuv420p input, ifast 4:2:0, 4:2:0
 * with a keep map, progressive, optimal Huffman), ours on the pure TypeScript path, jpeg-js (4:4:4, its only
 * mode), sharp/libvips (libjpeg-turbo behind libvips' pipeline; also with optimised coding, the optimal-Huffman
 * peer: tjbench 2.1 has no such switch) and tjbench (4:2:0, 4:4:4, `-yuv`: compression from planar 4:2:0, the
 * yuv420p peer, and `-progressive`: libjpeg's default scan script, ten scans with successive approximation
 * against our five, so its bytes differ while the work is of the same kind).
 *
 * The machine may be shared and noisy, so contenders run interleaved: every round gives each one a time slice
 * (tjbench gets `-benchtime` of the same length) and records its mean ms/frame over that slice; the tables
 * show the median over rounds (and the best round). Ratios are ours / tjbench of those medians. Timing targets
 * live here, never in tests.
 *
 *   npm run bench:codec [-- --rounds 9 --slice 0.4 --quality 75 --sizes 640x480,1920x1080 --photo /path.jpg]
 *   taskset -c 0 node dist/scripts/bench-codec.js --sizes 1920x1080   # one core, as on a Pi
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import jpegJs from 'jpeg-js'
import sharp from 'sharp'
import { collectRegular } from '../../agent/pipeline/reclaim'
import { encodeJpeg } from '../../shared/codec'
import { rgbToYcc420Pair } from '../../shared/codec/color'
import type { BlockKeepMap, EncodeOptions, RawImage } from '../../shared/codec'
import { encoderKernel, setWasmKernelEnabled } from '../../shared/codec/wasm/kernels'

const PHOTO_DIR = '/usr/share/backgrounds/mate/nature'
const TJBENCH = '/usr/bin/tjbench'

/** Our encoder with the WebAssembly kernels switched off: the pure TypeScript reference path. */
function encodeTsOnly(image: RawImage, options: EncodeOptions): Uint8Array {
  setWasmKernelEnabled(false)
  try {
    return encodeJpeg(image, options)
  } finally {
    setWasmKernelEnabled(true)
  }
}

/**
 * Keep maps (block-keep.ts) as the backend pushes them: one keeping everything (the map's own cost), and a
 * realistic one, a 16x9 grid keeping all 64 coefficients in every fifth cell and the DC only elsewhere.
 */
const KEEP_ALL: BlockKeepMap = { cols: 16, rows: 9, keep: new Array(144).fill(64) }
const KEEP_ROI: BlockKeepMap = {
  cols: 16,
  rows: 9,
  keep: Array.from({ length: 144 }, (_, i) => (i % 5 ? 1 : 64)),
}

interface Frame {
  width: number
  height: number
  rgb: Uint8Array
  rgba: Uint8Array
  i420: Uint8Array
  ppm: string
}

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback
}

/** Planar I420 of an RGB frame with the encoder's own conversion and 2x2 averaging (what a camera would hand over). */
function toI420(rgb: Uint8Array, w: number, h: number): Uint8Array {
  const cw = (w + 1) >> 1,
    ch = (h + 1) >> 1
  const out = new Uint8Array(w * h + 2 * cw * ch)
  const y = out.subarray(0, w * h)
  const ys = new Uint8Array(2 * w)
  const cb = out.subarray(w * h, w * h + cw * ch),
    cr = out.subarray(w * h + cw * ch)
  for (let p = 0; p < ch; p++) {
    const a = 2 * p,
      b = Math.min(h - 1, a + 1)
    rgbToYcc420Pair(rgb, 3, w, a * w * 3, b * w * 3, ys, 0, w, w, cb, cr, p * cw, cw)
    y.set(ys.subarray(0, w), a * w)
    if (b !== a) y.set(ys.subarray(w, 2 * w), b * w)
  }
  return out
}

async function loadFrame(photo: string, width: number, height: number, dir: string): Promise<Frame> {
  const { data, info } = await sharp(photo)
    .resize(width, height, { fit: 'cover' })
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true })
  const rgb = new Uint8Array(data.buffer, data.byteOffset, data.length)
  const rgba = new Uint8Array(width * height * 4)
  for (let i = 0, j = 0; i < rgb.length; i += 3, j += 4) {
    rgba[j] = rgb[i]
    rgba[j + 1] = rgb[i + 1]
    rgba[j + 2] = rgb[i + 2]
    rgba[j + 3] = 255
  }
  const ppm = join(dir, `${info.width}x${info.height}.ppm`)
  writeFileSync(ppm, Buffer.concat([Buffer.from(`P6\n${info.width} ${info.height}\n255\n`), data]))
  return { width: info.width, height: info.height, rgb, rgba, i420: toI420(rgb, info.width, info.height), ppm }
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

/** One round's result for one contender: mean wall ms/frame over its slice, CPU ms/frame (in-process only), output bytes. */
interface Sample {
  ms: number
  cpu?: number
  bytes: number
}
type Contender = [name: string, run: (sliceSec: number) => Promise<Sample>]

/** An in-process encoder run back to back for one slice (at least once). CPU covers sharp's worker thread too. */
function inProcess(encode: () => Uint8Array | Promise<Uint8Array>): (sliceSec: number) => Promise<Sample> {
  return async (sliceSec) => {
    const c0 = process.cpuUsage()
    const t0 = process.hrtime.bigint()
    let n = 0,
      bytes = 0,
      wall = 0
    do {
      bytes = (await encode()).length
      n++
      wall = Number(process.hrtime.bigint() - t0) / 1e6
    } while (wall < sliceSec * 1000)
    const c = process.cpuUsage(c0)
    sampleMemory()
    return { ms: wall / n, cpu: (c.user + c.system) / 1000 / n, bytes }
  }
}

/**
 * tjbench for one slice: `-componly -nowrite -quiet`, RGB pixels (the PPM's order), islow (its default), and
 * with `yuv` the "Comp Perf" of compression from planar YUV (its separate RGB → YUV step is excluded).
 * Parses "Comp Perf" (Mpixels/s) and the compression ratio from the quiet table.
 */
function tjbench(
  frame: Frame,
  quality: number,
  sub: '420' | '444',
  yuv: boolean,
  progressive = false,
): (sliceSec: number) => Promise<Sample> {
  return async (sliceSec) => {
    const args = [
      frame.ppm,
      String(quality),
      '-rgb',
      '-subsamp',
      sub,
      '-componly',
      '-nowrite',
      '-quiet',
      '-benchtime',
      String(sliceSec),
      '-warmup',
      '0.05',
    ]
    if (yuv) args.push('-yuv')
    if (progressive) args.push('-progressive')
    const r = spawnSync(TJBENCH, args, { encoding: 'utf8' })
    if (r.status !== 0)
      throw new Error(
        `tjbench ${args.join(' ')} failed: ${(r.stderr || r.stdout || String(r.error)).trim().split('\n')[0]}`,
      )
    // e.g. "RGB  (TD)  4:2:0    75    1920   1080    [Encode Perf]  Comp Perf  Comp Ratio  N/A"
    const line = r.stdout.split('\n').find((l) => /^\S+\s+\((TD|BU)\)\s/.test(l))
    const nums = line?.trim().split(/\s+/).slice(6).map(Number)
    const comp = nums?.[yuv ? 1 : 0],
      ratio = nums?.[yuv ? 2 : 1]
    if (!comp || !ratio)
      throw new Error(`tjbench: no "Comp Perf" figure in its output: ${r.stdout.trim().split('\n').slice(-1)[0]}`)
    const px = frame.width * frame.height
    return { ms: (px / 1e6 / comp) * 1000, bytes: Math.round((px * 3) / ratio) }
  }
}

/** Runs the contenders interleaved (`warmup` untimed rounds, then `rounds` timed ones). */
async function interleave(
  contenders: Contender[],
  rounds: number,
  warmup: number,
  sliceSec: number,
): Promise<Map<string, Sample[]>> {
  const out = new Map<string, Sample[]>(contenders.map(([name]) => [name, []]))
  for (let round = 0; round < warmup + rounds; round++) {
    for (const [name, run] of contenders) {
      // A full collection, untimed, between slices: the in-process contenders share one heap, and jpeg-js's garbage
      // would otherwise be collected during whoever runs next (tjbench, in its own process, never pays it). The
      // regular flavour, as the agent collects after two-pass frames: a last-resort gc() drops the maps of the
      // codec's per-frame objects and with them the two-pass coders' optimised code.
      collectRegular()
      // Warm-up rounds get whole slices: a 1080p progressive encode calls its scan coders three times, and V8
      // needs ~15 encodes to optimise them (a quarter slice left it at 2-3x its steady-state time).
      const s = await run(sliceSec)
      if (round >= warmup) out.get(name)!.push(s)
    }
  }
  return out
}

export async function main(): Promise<number> {
  const rounds = Number(arg('rounds', '9'))
  const sliceSec = Number(arg('slice', '0.4'))
  const quality = Number(arg('quality', '75'))
  const photo = arg('photo', join(PHOTO_DIR, 'Aqua.jpg'))
  const sizes = arg('sizes', '640x480,1920x1080')
    .split(',')
    .map((s) => s.split('x').map(Number) as [number, number])
  if (!existsSync(photo))
    throw new Error(
      `--photo ${photo}: not found (install mate-backgrounds, or pass --photo FILE; e.g. one of ${existsSync(PHOTO_DIR) ? readdirSync(PHOTO_DIR).slice(0, 3).join(', ') : 'none here'})`,
    )
  if (!existsSync(TJBENCH))
    throw new Error(`${TJBENCH} not found: install libjpeg-turbo-progs (the benchmark's anchor)`)
  sharp.concurrency(1)
  sharp.cache(false)
  const pinned = readAffinity()
  console.log(
    `codec benchmark: ${photo}, quality ${quality}, ${rounds} interleaved rounds of ${sliceSec} s slices after warm-up, Node ${process.version}, single thread, our kernel: ${encoderKernel()}${pinned ? `, CPU affinity ${pinned}` : ''}`,
  )
  const dir = mkdtempSync(join(tmpdir(), 'bench-codec-'))
  try {
    for (const [w, h] of sizes) {
      const f = await loadFrame(photo, w, h, dir)
      const image: RawImage = { width: f.width, height: f.height, data: f.rgb, format: 'rgb' }
      const i420: RawImage = { width: f.width, height: f.height, data: f.i420, format: 'yuv420p' }
      const sharpEnc =
        (sub: '4:2:0' | '4:4:4', optimiseCoding = false) =>
        () =>
          sharp(f.rgb, { raw: { width: f.width, height: f.height, channels: 3 } })
            .jpeg({
              quality,
              optimiseCoding,
              mozjpeg: false,
              chromaSubsampling: sub,
              trellisQuantisation: false,
              overshootDeringing: false,
              optimiseScans: false,
            })
            .toBuffer()
      const results = await interleave(
        [
          ['tjbench 4:2:0', tjbench(f, quality, '420', false)],
          ['ours 4:2:0', inProcess(() => encodeJpeg(image, { quality, subsampling: '420' }))],
          ['tjbench 4:4:4', tjbench(f, quality, '444', false)],
          ['ours 4:4:4', inProcess(() => encodeJpeg(image, { quality, subsampling: '444' }))],
          ['tjbench yuv420p (-yuv, from planar)', tjbench(f, quality, '420', true)],
          ['ours yuv420p', inProcess(() => encodeJpeg(i420, { quality }))],
          ['ours 4:2:0, keep map all 64', inProcess(() => encodeJpeg(image, { quality, blockKeep: KEEP_ALL }))],
          ['ours 4:2:0, keep map 20% 64 / 1', inProcess(() => encodeJpeg(image, { quality, blockKeep: KEEP_ROI }))],
          ['tjbench 4:2:0 progressive', tjbench(f, quality, '420', false, true)],
          ['ours 4:2:0 progressive', inProcess(() => encodeJpeg(image, { quality, progressive: true }))],
          ['ours 4:2:0 optimal Huffman', inProcess(() => encodeJpeg(image, { quality, optimizeHuffman: true }))],
          ['sharp 4:2:0 optimal Huffman', inProcess(sharpEnc('4:2:0', true))],
          ['ours ifast 4:2:0', inProcess(() => encodeJpeg(image, { quality, subsampling: '420', dct: 'ifast' }))],
          ['ours 4:2:0, TypeScript only', inProcess(() => encodeTsOnly(image, { quality, subsampling: '420' }))],
          ['ours 4:4:4, TypeScript only', inProcess(() => encodeTsOnly(image, { quality, subsampling: '444' }))],
          [
            'jpeg-js 4:4:4',
            inProcess(() => jpegJs.encode({ data: f.rgba, width: f.width, height: f.height }, quality).data),
          ],
          ['sharp 4:2:0', inProcess(sharpEnc('4:2:0'))],
          ['sharp 4:4:4', inProcess(sharpEnc('4:4:4'))],
        ],
        rounds,
        2,
        sliceSec,
      )
      const med = (n: string): number => median(results.get(n)!.map((s) => s.ms))
      const best = (n: string): number => Math.min(...results.get(n)!.map((s) => s.ms))
      console.log(`\n${`${f.width}x${f.height}`.padEnd(38)}  median ms/frame   best   median CPU   frames/s      size`)
      for (const [name, samples] of results) {
        const cpu = samples.every((s) => s.cpu !== undefined) ? median(samples.map((s) => s.cpu!)).toFixed(2) : '–'
        const m = med(name)
        console.log(
          `  ${name.padEnd(36)} ${m.toFixed(2).padStart(15)} ${best(name).toFixed(2).padStart(6)} ${cpu.padStart(12)} ${(1000 / m).toFixed(0).padStart(10)} ${(samples[0].bytes / 1024).toFixed(1).padStart(9)} KiB`,
        )
      }
      const ratio = (a: string, b: string, of = med): string => `${(of(a) / of(b)).toFixed(2)}x`
      const tj = (of: (n: string) => number): string =>
        `4:2:0 ${ratio('ours 4:2:0', 'tjbench 4:2:0', of)}   4:4:4 ${ratio('ours 4:4:4', 'tjbench 4:4:4', of)}   yuv420p ${ratio('ours yuv420p', 'tjbench yuv420p (-yuv, from planar)', of)}`
      console.log(`  ours / tjbench (target ≤ 1.3x):  ${tj(med)}   (median wall)`)
      console.log(`                                   ${tj(best)}   (best rounds)`)
      console.log(
        `  ours / sharp:                    4:2:0 ${ratio('ours 4:2:0', 'sharp 4:2:0')}   4:4:4 ${ratio('ours 4:4:4', 'sharp 4:4:4')}`,
      )
      console.log(
        `  keep map / no map:               all 64 ${ratio('ours 4:2:0, keep map all 64', 'ours 4:2:0')}   20% 64 / 1 ${ratio('ours 4:2:0, keep map 20% 64 / 1', 'ours 4:2:0')}`,
      )
      console.log(
        `  two-pass entropy coding:         progressive, ours / tjbench -progressive ${ratio('ours 4:2:0 progressive', 'tjbench 4:2:0 progressive')}   optimal Huffman, ours / sharp ${ratio('ours 4:2:0 optimal Huffman', 'sharp 4:2:0 optimal Huffman')}`,
      )
      console.log(`  jpeg-js / ours (speed-up):       4:4:4 ${ratio('jpeg-js 4:4:4', 'ours 4:4:4')}`)
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
  console.log(
    `\npeak RSS ${(peakRss / 2 ** 20).toFixed(1)} MiB, peak JS heap ${(peakHeap / 2 ** 20).toFixed(1)} MiB (whole process, includes sharp/libvips)`,
  )
  return 0
}

/** The CPUs this process may run on when restricted (e.g. by `taskset -c 0`), from /proc; '' when unrestricted or unknown. */
function readAffinity(): string {
  try {
    const list = /Cpus_allowed_list:\s*(\S+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? ''
    return list && list !== `0-${cpus().length - 1}` ? list : ''
  } catch {
    return ''
  }
}

if (require.main === module) {
  main().then(
    (code) => {
      process.exitCode = code
    },
    (err: unknown) => {
      console.error(err instanceof Error ? err.message : String(err))
      process.exitCode = 1
    },
  )
}
