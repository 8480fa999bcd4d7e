/**
 * Frame sources for the detection benchmark: a video decoded by Debian's ffmpeg (a real child process, RGB24 on a
 * pipe) or a folder of still images in name order. Frames stream one at a time, so a 795-frame clip never sits in
 * memory (768x576 RGB is 1.3 MB a frame). Split by time: the first frames calibrate, the later ones test, so no
 * table is ever scored on a frame it was built from.
 */
import { spawn, spawnSync } from 'node:child_process'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { basename, join } from 'node:path'
import { decodeImageFile } from '../../agent/image-files/decode'
import type { RawImage } from '../../shared/codec/types'

/** OpenCV's pedestrian clip (Debian opencv-doc): 768x576, 795 frames, 10 fps, fixed outdoor camera. */
export const VTEST_AVI = '/usr/share/doc/opencv-doc/examples/data/vtest.avi'
/** The issue's split on vtest.avi: frames 0–399 calibrate, 400–794 test. */
export const DEFAULT_CALIBRATION_FRAMES = 400

export interface Frame {
  index: number
  image: RawImage
}

export interface FrameSource {
  /** What the frames come from, for reports. */
  name: string
  width: number
  height: number
  count: number
  /** The frames whose indices are given (ascending), as RGB. */
  frames(indices: readonly number[]): AsyncIterable<Frame>
}

const IMAGE_EXT = /\.(png|jpe?g|ppm|pgm|bmp)$/i

/** Width, height and frame count of a video's first video stream (ffprobe counts packets: no decoding). */
export function probeVideo(file: string): { width: number; height: number; count: number } {
  const r = spawnSync(
    'ffprobe',
    [
      '-v',
      'error',
      '-select_streams',
      'v:0',
      '-count_packets',
      '-show_entries',
      'stream=width,height,nb_read_packets',
      '-of',
      'csv=p=0',
      file,
    ],
    { encoding: 'utf8' },
  )
  if (r.error)
    throw new Error(`cannot run ffprobe (${r.error.message}): install Debian's ffmpeg (apt-get install ffmpeg)`)
  if (r.status !== 0)
    throw new Error(`--video ${file}: ffprobe cannot read it: ${r.stderr.trim().split('\n')[0] || `exit ${r.status}`}`)
  const [width, height, count] = r.stdout.trim().split('\n')[0].split(',').map(Number)
  if (!(width > 0 && height > 0 && count > 0))
    throw new Error(`--video ${file}: no video stream with frames (ffprobe said '${r.stdout.trim()}')`)
  return { width, height, count }
}

export function videoSource(file: string): FrameSource {
  const { width, height, count } = probeVideo(file)
  return {
    name: basename(file),
    width,
    height,
    count,
    frames: (indices) => videoFrames(file, width, height, indices),
  }
}

async function* videoFrames(
  file: string,
  width: number,
  height: number,
  indices: readonly number[],
): AsyncIterable<Frame> {
  if (indices.length === 0) return
  const wanted = new Set(indices)
  const last = Math.max(...indices)
  const size = width * height * 3
  // Decode only up to the last wanted frame; frames in between are read and dropped (decoding is cheap next to
  // detection, and seeking in MPEG-4 part 2 would decode from the previous key frame anyway).
  const ff = spawn(
    'ffmpeg',
    [
      '-v',
      'error',
      '-nostdin',
      '-i',
      file,
      '-map',
      '0:v:0',
      '-frames:v',
      String(last + 1),
      '-f',
      'rawvideo',
      '-pix_fmt',
      'rgb24',
      '-',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let stderr = ''
  ff.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr = (stderr + d).slice(-2000)
  })
  const exited = new Promise<number | null>((resolve, reject) => {
    ff.on('error', reject)
    ff.on('close', (code) => resolve(code))
  })
  exited.catch(() => undefined) // a spawn failure is reported below, after stdout ends; never as an unhandled rejection
  let index = 0
  let frame = Buffer.alloc(size)
  let filled = 0
  try {
    for await (const chunk of ff.stdout as AsyncIterable<Buffer>) {
      let off = 0
      while (off < chunk.length) {
        const n = Math.min(size - filled, chunk.length - off)
        chunk.copy(frame, filled, off, off + n)
        filled += n
        off += n
        if (filled < size) continue
        if (wanted.has(index)) {
          yield {
            index,
            image: { width, height, format: 'rgb', data: new Uint8Array(frame.buffer, frame.byteOffset, size) },
          }
          frame = Buffer.alloc(size) // the consumer may keep the one it got
        }
        filled = 0
        index++
      }
    }
    const code = await exited.catch((e: Error) => {
      throw new Error(`cannot run ffmpeg (${e.message}): install Debian's ffmpeg (apt-get install ffmpeg)`)
    })
    if (code !== 0)
      throw new Error(
        `--video ${file}: ffmpeg failed at frame ${index}: ${stderr.trim().split('\n')[0] || `exit ${code}`}`,
      )
    if (index <= last) throw new Error(`--video ${file}: ffmpeg gave ${index} frames, frame ${last} was asked for`)
  } finally {
    if (ff.exitCode === null) ff.kill() // the consumer stopped early
  }
}

/** A folder of still images (png, jpeg, ppm/pgm, bmp) in file-name order; all must have the first one's size. */
export function imageFolderSource(dir: string): FrameSource {
  let names: string[]
  try {
    names = readdirSync(dir)
      .filter((n) => IMAGE_EXT.test(n) && statSync(join(dir, n)).isFile())
      .sort()
  } catch (err) {
    throw new Error(`--images ${dir}: cannot list it (${(err as Error).message})`)
  }
  if (names.length === 0) throw new Error(`--images ${dir}: no .png, .jpg, .ppm, .pgm or .bmp files in it`)
  const first = readImage(dir, names[0])
  return {
    name: basename(dir),
    width: first.width,
    height: first.height,
    count: names.length,
    frames: async function* (indices) {
      for (const i of indices) {
        const image = i === 0 ? first : readImage(dir, names[i])
        if (image.width !== first.width || image.height !== first.height) {
          throw new Error(
            `--images ${dir}: ${names[i]} is ${image.width}x${image.height}, the first image ${names[0]} is ${first.width}x${first.height}; a camera's frames share one size`,
          )
        }
        yield { index: i, image }
      }
    },
  }
}

function readImage(dir: string, name: string): RawImage {
  const img = decodeImageFile(new Uint8Array(readFileSync(join(dir, name))), name)
  if (img.format === 'rgb') return img
  if (img.format !== 'gray') throw new Error(`--images ${dir}: ${name} decoded to ${img.format}, expected rgb or gray`)
  const rgb = new Uint8Array(img.width * img.height * 3)
  for (let i = 0; i < img.width * img.height; i++) rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = img.data[i]
  return { width: img.width, height: img.height, format: 'rgb', data: rgb }
}

export interface FrameSplit {
  calibration: number[]
  test: number[]
}

/**
 * Time split: frames [0, split) calibrate, [split, count) test, test frames subsampled to every `every`-th
 * (counted from the first test frame) and cut to `limit`. The default split is the issue's 400 when the source
 * has enough frames left for a test half that long, else half the source.
 */
export function splitFrames(count: number, opts: { split?: number; every?: number; limit?: number } = {}): FrameSplit {
  const every = opts.every ?? 1
  if (!(Number.isInteger(every) && every >= 1))
    throw new RangeError(`--every must be an integer >= 1, got ${opts.every}`)
  const split =
    opts.split ?? (count >= 1.5 * DEFAULT_CALIBRATION_FRAMES ? DEFAULT_CALIBRATION_FRAMES : Math.floor(count / 2))
  if (!(Number.isInteger(split) && split >= 1 && split < count))
    throw new RangeError(
      `--split must be an integer in 1..${count - 1} (the first test frame of ${count}), got ${opts.split}`,
    )
  const limit = opts.limit ?? Infinity
  if (!(limit >= 1)) throw new RangeError(`--limit must be >= 1, got ${opts.limit}`)
  const test: number[] = []
  for (let i = split; i < count && test.length < limit; i += every) test.push(i)
  return { calibration: Array.from({ length: split }, (_, i) => i), test }
}
