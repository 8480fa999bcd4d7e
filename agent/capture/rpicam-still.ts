import type { RawImage } from '../../shared/codec/types'
import { anySignal, runToCompletion } from './child'
import { CameraToolMissingError } from './errors'
import { deriveI420Layout, layoutForStride, packI420, packedI420Bytes } from './i420'
import type { FrameSource } from './source'
import { missingMessage, resolveCameraTool } from './tools'

export interface RpicamStillOptions {
  width: number
  height: number
  timeoutMs: number
  warmupMs: number
  /** Y stride if the tool pads rows; normally derived from the output size (rpicam-still writes packed rows). */
  stride?: number
}

/**
 * One `rpicam-still --encoding yuv420 -o -` (or `libcamera-still` on Bullseye) per frame: raw I420 straight to
 * the encoder's yuv420p input, no colour conversion and no JPEG in between.
 */
export class RpicamStillSource implements FrameSource {
  readonly kind = 'rpicam-still'
  private readonly closing = new AbortController()
  /** The capture in progress, so close() can wait until its process has been reaped. */
  private inflight: Promise<unknown> | null = null
  private readonly tool: string

  constructor(private readonly opts: RpicamStillOptions) {
    this.tool = resolveCameraTool('still')
  }

  /** The command line, for logs and tests. */
  args(): string[] {
    const { width, height, warmupMs } = this.opts
    return [
      '-n',
      '-t',
      String(Math.max(1, warmupMs)),
      '--encoding',
      'yuv420',
      '--width',
      String(width),
      '--height',
      String(height),
      '-o',
      '-',
    ]
  }

  capture(signal?: AbortSignal): Promise<RawImage> {
    const p = this.captureOnce(signal)
    this.inflight = p
    return p.finally(() => {
      if (this.inflight === p) this.inflight = null
    })
  }

  private async captureOnce(signal?: AbortSignal): Promise<RawImage> {
    const { width, height, stride } = this.opts
    const expected = stride ? layoutForStride(width, height, stride).frameBytes : packedI420Bytes(width, height)
    const out = await runToCompletion(this.tool, this.args(), {
      label: this.tool,
      timeoutMs: this.opts.timeoutMs,
      signal: anySignal(signal, this.closing.signal),
      // Padded rows can at most roughly double a narrow frame; anything beyond is not one I420 frame.
      maxBytes: expected * 2 + (1 << 20),
      spawnError: (err) =>
        err.code === 'ENOENT'
          ? new CameraToolMissingError(missingMessage('rpicam-still'))
          : new Error(`${this.tool} could not be started: ${err.message}`),
    })
    if (out.length === 0) throw new Error(`${this.tool} exited 0 but wrote no image data`)
    const layout = stride ? layoutForStride(width, height, stride) : deriveI420Layout(out.length, width, height)
    if (!layout || out.length < layout.frameBytes) {
      throw new Error(
        `${this.tool} wrote ${out.length} bytes: not an I420 frame of ${width}x${height} ` +
          `(expected ${expected}${stride ? ` with stride ${stride}` : ' packed, or rows padded to a stride'}); truncated or garbage output`,
      )
    }
    return packI420(out, layout)
  }

  async close(): Promise<void> {
    this.closing.abort()
    await this.inflight?.catch(() => {})
  }
}
