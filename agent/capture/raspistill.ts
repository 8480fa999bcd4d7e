import { Raspistill, type IRaspistillExecutor } from 'node-raspistill'
import type { RawImage } from '../../shared/codec/types'
import { decodeBmp } from '../image-files/bmp'
import { anySignal, runToCompletion } from './child'
import { CameraToolMissingError } from './errors'
import type { CaptureLogger } from './options'
import { missingMessage, resolveCameraTool } from './tools'
import type { FrameSource } from './source'

/**
 * node-raspistill builds the raspistill command line and drives the call; its executor (a constructor parameter)
 * is replaced because the stock one has no timeout (a hung camera hangs capture forever), rejects on any stderr
 * output (raspistill's harmless mmal warnings included: checked with the fake camera), and settles on 'exit',
 * which Node fires before stdout is necessarily drained (not observed in 20 1080p runs here, but allowed).
 */
class BoundedExecutor implements IRaspistillExecutor {
  constructor(private readonly call: { timeoutMs: number; signal?: AbortSignal; maxBytes: number }) {}

  spawnAndGetImage(args: string[]): Promise<Buffer> {
    return runToCompletion('raspistill', args, {
      label: 'raspistill',
      timeoutMs: this.call.timeoutMs,
      signal: this.call.signal,
      maxBytes: this.call.maxBytes,
      spawnError: (err) =>
        err.code === 'ENOENT'
          ? new CameraToolMissingError(missingMessage('raspistill'))
          : new Error(`raspistill could not be started: ${err.message}`),
    })
  }

  exec(): Promise<Buffer> {
    return Promise.reject(new Error('raspistill: file output is not used'))
  }
  spawnAndGetImages(): Promise<void> {
    return Promise.reject(new Error('raspistill: timelapse is not used'))
  }
  killProcess(): void {
    /* runToCompletion owns the child; abort via the signal */
  }
}

export interface RaspistillSourceOptions {
  width: number
  height: number
  timeoutMs: number
  warmupMs: number
  log: CaptureLogger
}

/** Legacy camera stack: one `raspistill -e bmp -o -` per frame, so frames are never JPEG-compressed twice. */
export class RaspistillSource implements FrameSource {
  readonly kind = 'raspistill'
  private warnedSize = false
  private readonly closing = new AbortController()
  /** The capture in progress, so close() can wait until its process has been reaped. */
  private inflight: Promise<unknown> | null = null

  constructor(private readonly opts: RaspistillSourceOptions) {
    resolveCameraTool('raspistill') // fail fast with the Bookworm hint
  }

  capture(signal?: AbortSignal): Promise<RawImage> {
    const p = this.captureOnce(signal)
    this.inflight = p
    return p.finally(() => {
      if (this.inflight === p) this.inflight = null
    })
  }

  private async captureOnce(signal?: AbortSignal): Promise<RawImage> {
    const { width, height } = this.opts
    const call = {
      timeoutMs: this.opts.timeoutMs,
      signal: anySignal(signal, this.closing.signal),
      maxBytes: 54 + 1024 + width * height * 4 + 4 * height,
    }
    const camera = new Raspistill(
      {
        noFileSave: true,
        encoding: 'bmp',
        width,
        height,
        time: this.opts.warmupMs,
        noPreview: true,
      },
      undefined,
      new BoundedExecutor(call),
    )
    const bmp = await camera.takePhoto()
    const img = decodeBmp(bmp, 'raspistill output')
    if ((img.width !== width || img.height !== height) && !this.warnedSize) {
      this.warnedSize = true
      this.opts.log.warn(
        `raspistill delivered ${img.width}x${img.height}, not the ${width}x${height} asked for; passing it on as is`,
      )
    }
    return img
  }

  async close(): Promise<void> {
    this.closing.abort()
    await this.inflight?.catch(() => {})
  }
}
