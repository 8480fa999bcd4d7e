/** Test helpers for the codec suite: deterministic images, PPM/PGM files, and the real cjpeg/djpeg peers. */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { RawImage } from '../../shared/codec/types'

export const PHOTO_DIR = '/usr/share/backgrounds/mate/nature'

/** Deterministic byte generator (LCG, top byte). */
export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    return s >>> 24
  }
}

export type Pattern = 'random' | 'gradient' | 'blocks'

export function makeImage(
  width: number,
  height: number,
  format: 'rgb' | 'gray' | 'rgba',
  pattern: Pattern,
  seed = 1,
): RawImage {
  const ch = format === 'gray' ? 1 : format === 'rgb' ? 3 : 4
  const r = rng(seed)
  const data = new Uint8Array(width * height * ch)
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < ch; c++) {
        const i = (y * width + x) * ch + c
        if (pattern === 'random') data[i] = r()
        else if (pattern === 'gradient')
          data[i] =
            (((x * 255) / Math.max(1, width - 1)) * (c === 1 ? 0.5 : 1) +
              ((y * 255) / Math.max(1, height - 1)) * (c === 2 ? 1 : 0.4)) &
            255
        else data[i] = ((x >> 3) + (y >> 3) + c) % 2 ? 230 - c * 40 : 20 + c * 30
      }
    }
  }
  return { width, height, data, format }
}

/** Random valid quantization tables (1..255), biased towards realistic magnitudes. */
export function randomTables(seed: number): { luma: number[]; chroma: number[] } {
  const r = rng(seed)
  const t = (): number[] =>
    Array.from({ length: 64 }, (_, i) => (i % 7 === 0 ? 1 + (r() % 4) : 1 + ((r() * (1 + (i >> 3))) % 255)))
  return { luma: t(), chroma: t() }
}

export function pnm(image: RawImage): Buffer {
  if (image.format !== 'rgb' && image.format !== 'gray') throw new Error('pnm: rgb or gray only')
  const head = Buffer.from(`${image.format === 'gray' ? 'P5' : 'P6'}\n${image.width} ${image.height}\n255\n`)
  return Buffer.concat([head, Buffer.from(image.data)])
}

/** Parses binary P5/P6 with maxval 255 (djpeg's output). */
export function parsePnm(buf: Buffer): RawImage {
  const m = /^(P[56])\s+(\d+)\s+(\d+)\s+(\d+)\s/.exec(buf.subarray(0, 64).toString('latin1'))
  if (m?.[4] !== '255') throw new Error('parsePnm: not an 8-bit P5/P6')
  const width = Number(m[2]),
    height = Number(m[3])
  const format = m[1] === 'P5' ? 'gray' : 'rgb'
  const n = width * height * (format === 'gray' ? 1 : 3)
  return { width, height, format, data: new Uint8Array(buf.subarray(m[0].length, m[0].length + n)) }
}

export function crop(image: RawImage, x0: number, y0: number, w: number, h: number): RawImage {
  const ch = image.format === 'gray' ? 1 : 3
  const data = new Uint8Array(w * h * ch)
  for (let y = 0; y < h; y++)
    data.set(
      image.data.subarray(((y0 + y) * image.width + x0) * ch, ((y0 + y) * image.width + x0 + w) * ch),
      y * w * ch,
    )
  return { width: w, height: h, format: image.format, data }
}

/** The bundled nature photos, decoded with djpeg at 1/8 scale (small, natural content). */
export function photos(): RawImage[] {
  return readdirSync(PHOTO_DIR)
    .filter((f) => f.endsWith('.jpg'))
    .sort()
    .map((f) => parsePnm(execFileSync('djpeg', ['-scale', '1/8', '-ppm', join(PHOTO_DIR, f)])))
}

export function toGray(image: RawImage): RawImage {
  const data = new Uint8Array(image.width * image.height)
  for (let i = 0; i < data.length; i++)
    data[i] = (image.data[i * 3] * 77 + image.data[i * 3 + 1] * 150 + image.data[i * 3 + 2] * 29) >> 8
  return { width: image.width, height: image.height, format: 'gray', data }
}

export class Cjpeg {
  readonly dir = mkdtempSync(join(tmpdir(), 'codec-test-'))

  /**
   * Runs cjpeg with the equivalent of our options. `restart`: number = MCUs (`-restart NB`), `{ rows }` = MCU
   * rows (`-restart N`). `scans`: a scan script in cjpeg's `-scans` syntax (a progressive file).
   */
  encode(
    image: RawImage,
    o: {
      luma: ArrayLike<number>
      chroma: ArrayLike<number>
      subsampling?: '444' | '420'
      dct?: 'islow' | 'ifast'
      optimize?: boolean
      restart?: number | { rows: number }
      scans?: string
    },
  ): Buffer {
    const input = join(this.dir, image.format === 'gray' ? 'in.pgm' : 'in.ppm')
    const qfile = join(this.dir, 'q.txt')
    writeFileSync(input, pnm(image))
    writeFileSync(qfile, `${Array.from(o.luma).join(' ')}\n${Array.from(o.chroma).join(' ')}\n`)
    const args = ['-dct', o.dct === 'ifast' ? 'fast' : 'int', '-baseline', '-qtables', qfile, '-qslots', '0,1,1']
    if (image.format === 'gray') args.push('-grayscale')
    else args.push('-sample', o.subsampling === '444' ? '1x1' : '2x2')
    if (o.optimize) args.push('-optimize')
    if (typeof o.restart === 'number') args.push('-restart', `${o.restart}B`)
    else if (o.restart) args.push('-restart', String(o.restart.rows))
    if (o.scans !== undefined) {
      const sfile = join(this.dir, 'scans.txt')
      writeFileSync(sfile, o.scans)
      args.push('-scans', sfile)
    }
    args.push(input)
    return execFileSync('cjpeg', args)
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true })
  }
}

/** Decodes with the real djpeg (fails the caller on any djpeg error or warning). */
export function djpeg(jpeg: Uint8Array): RawImage {
  const out = execFileSync('djpeg', ['-pnm'], { input: jpeg, stdio: ['pipe', 'pipe', 'pipe'] })
  return parsePnm(out)
}

/** Index of the first differing byte, or -1. */
export function firstDiff(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i
  return a.length === b.length ? -1 : n
}

/** PSNR in dB between two same-size 8-bit buffers. */
export function psnr(a: Uint8Array, b: Uint8Array): number {
  let se = 0
  for (let i = 0; i < a.length; i++) se += (a[i] - b[i]) ** 2
  return se === 0 ? Infinity : 10 * Math.log10((255 * 255 * a.length) / se)
}
