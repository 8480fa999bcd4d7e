/**
 * Calibration image sources for `deepn tables build`: the Fashion-MNIST training split (gray, from IDX) or photo
 * files decoded with sharp (an optional backend package: table building is an offline tool). Images are yielded one at a
 * time so calibration memory does not grow with the number of images.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import type { RawImage } from '../../shared/codec/types'
import { loadFashionMnist } from '../eval/dataset'
import { loadBackendPackage } from '../common/backend-package'
import { decodeImageFile } from '../../agent/image-files/decode'

export function* fashionMnistImages(dataDir?: string, limit = Infinity): Generator<RawImage> {
  const set = loadFashionMnist('train', dataDir)
  const n = Math.min(limit, set.count)
  const per = set.width * set.height
  for (let i = 0; i < n; i++) {
    yield { width: set.width, height: set.height, format: 'gray', data: set.pixels.subarray(i * per, (i + 1) * per) }
  }
}

/** Expands files and directories (non-recursive) into a sorted list of .jpg/.jpeg/.png files. */
export function listImageFiles(paths: string[]): string[] {
  const out: string[] = []
  for (const p of paths) {
    const st = statSync(p, { throwIfNoEntry: false })
    if (!st) throw new Error(`calibration path ${p} does not exist`)
    if (st.isDirectory())
      out.push(
        ...readdirSync(p)
          .filter((f) => /\.(jpe?g|png)$/i.test(f))
          .sort()
          .map((f) => join(p, f)),
      )
    else out.push(p)
  }
  if (out.length === 0) throw new Error(`no .jpg/.png images in ${paths.join(', ')}`)
  return out
}

/** Decodes a photo to packed RGB (gray files are expanded), optionally shrunk so its longer side <= maxSide. */
export async function decodePhoto(path: string, maxSide?: number): Promise<RawImage> {
  const sharp = loadBackendPackage<typeof import('sharp').default>('sharp', 'decoding calibration photos')
  let img = sharp(path, { failOn: 'error' }).rotate().removeAlpha().toColourspace('srgb')
  if (maxSide) img = img.resize({ width: maxSide, height: maxSide, fit: 'inside', withoutEnlargement: true })
  let decoded
  try {
    decoded = await img.raw().toBuffer({ resolveWithObject: true })
  } catch (err) {
    throw new Error(`${path}: ${whyUndecodable(path, err)}`)
  }
  const { data, info } = decoded
  if (info.channels !== 3) throw new Error(`${path}: expected 3 channels after sRGB conversion, got ${info.channels}`)
  return {
    width: info.width,
    height: info.height,
    format: 'rgb',
    data: new Uint8Array(data.buffer, data.byteOffset, data.length),
  }
}

/**
 * Why sharp refused a file, in the file's terms: sharp says "Input file has corrupt header: VipsJpeg: …" without
 * the file name, so ask the agent's own decoder, whose errors say what is wrong ("truncated: … ends before its IEND
 * chunk"); a file it reads but sharp does not gets a plain sentence.
 */
function whyUndecodable(path: string, err: unknown): string {
  let bytes: Buffer
  try {
    bytes = readFileSync(path)
  } catch (readErr) {
    return `cannot read: ${(readErr as NodeJS.ErrnoException).code ?? String(readErr)}`
  }
  try {
    decodeImageFile(bytes)
  } catch (decodeErr) {
    return (decodeErr as Error).message
  }
  return /unsupported image format/i.test(String(err))
    ? 'not an image format the table builder reads'
    : 'cannot be decoded'
}
