import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { RawImage } from '../../shared/codec/types'
import { decodeImageFile } from '../image-files/decode'
import type { FrameSource } from './source'
import { CaptureAbortedError, SourceExhaustedError } from './errors'

const DEFAULT_PATTERN = /\.(ppm|pgm|pnm|png|jpe?g|bmp)$/i

/** `*` and `?` shell-style glob on a file name → RegExp (case-insensitive, whole name). */
export function globToRegExp(glob: string): RegExp {
  const body = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.')
  return new RegExp(`^${body}$`, 'i')
}

// Natural order: frame2 before frame10, as camera and dataset file names expect.
const collator = new Intl.Collator('en', { numeric: true, sensitivity: 'variant' })

export interface FilesSourceOptions {
  dir: string
  loop: boolean
  pattern?: string
}

/**
 * Replays a folder of image files in name order, once or looping. The listing is taken at the start of every
 * pass, so files added meanwhile join the next pass. A file that fails to decode rejects that capture (naming the
 * file); the next capture moves on to the following file.
 */
export class FilesSource implements FrameSource {
  readonly kind = 'files'
  private queue: string[] = []
  private next = 0
  private passes = 0
  private readonly match: RegExp

  constructor(private readonly opts: FilesSourceOptions) {
    this.match = opts.pattern ? globToRegExp(opts.pattern) : DEFAULT_PATTERN
  }

  private async list(): Promise<string[]> {
    let entries
    try {
      entries = await readdir(this.opts.dir, { withFileTypes: true })
    } catch (err) {
      throw new Error(`files: cannot read folder ${this.opts.dir}: ${(err as Error).message}`)
    }
    return entries
      .filter((e) => e.isFile() && !e.name.startsWith('.') && this.match.test(e.name))
      .map((e) => e.name)
      .sort(collator.compare)
  }

  async capture(signal?: AbortSignal): Promise<RawImage> {
    if (signal?.aborted) throw new CaptureAbortedError('files: capture aborted')
    if (this.next >= this.queue.length) {
      if (this.passes > 0 && !this.opts.loop) {
        throw new SourceExhaustedError(`files: all ${this.queue.length} images in ${this.opts.dir} replayed (loop off)`)
      }
      const names = await this.list()
      if (names.length === 0) {
        const what = this.opts.pattern ? `matching '${this.opts.pattern}'` : '(.ppm .pgm .png .jpg .jpeg .bmp)'
        throw new Error(`files: no images ${what} in ${this.opts.dir}`)
      }
      this.queue = names
      this.next = 0
      this.passes++
    }
    const name = this.queue[this.next++]
    const path = join(this.opts.dir, name)
    let bytes: Buffer
    try {
      bytes = await readFile(path)
    } catch (err) {
      throw new Error(`files: cannot read ${path}: ${(err as Error).message}`)
    }
    return decodeImageFile(bytes, name)
  }

  async close(): Promise<void> {}
}
