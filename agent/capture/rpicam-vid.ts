import type { ChildProcess } from 'node:child_process'
import type { RawImage } from '../../shared/codec/types'
import { describeExit, spawnCamera, TailBuffer, terminate } from './child'
import { CameraToolMissingError, CaptureAbortedError } from './errors'
import { deriveI420Layout, layoutForStride, packI420, type I420Layout } from './i420'
import type { CaptureLogger } from './options'
import type { FrameSource } from './source'
import { missingMessage, resolveCameraTool } from './tools'

export interface RpicamVidOptions {
  width: number
  height: number
  /** Longest wait for the next frame (includes camera start-up on the first capture). */
  timeoutMs: number
  framerate: number
  /** Y stride, if known; otherwise read from rpicam-vid's verbose "output buffer ... size N" lines. */
  stride?: number
  log: CaptureLogger
}

// rpicam-apps FileOutput logs every buffer it writes at verbosity 2: "FileOutput: output buffer 0x... size 460800".
const SIZE_LINE = /output buffer \S+ size (\d+)/
// libcamera's INFO log names the configured stream, which may differ from what was asked for.
const STREAM_LINE = /configuring streams: \(0\) (\d+)x(\d+)-YUV420/
const NOISE_LINE = /output buffer \S+ size \d+|^Viewfinder frame \d+/

/**
 * A long-running `rpicam-vid --codec yuv420 -o -` (or `libcamera-vid`). Raw frames are fixed-size chunks of
 * stdout whose rows are padded to a stride; the frame size comes from the tool's verbose log (or an explicit
 * stride), never guessed from pixel data. The stream is read continuously and only the newest complete frame is
 * kept: capture() hands out a frame no older than one frame period, and never the same frame twice.
 */
export class RpicamVidSource implements FrameSource {
  readonly kind = 'rpicam-vid'
  private readonly tool: string
  private child: ChildProcess | null = null
  private stopping: Promise<void> | null = null
  private closed = false

  private layout: I420Layout | null = null
  private pending: Buffer[] = []
  private pendingBytes = 0
  private cur: Buffer | null = null
  private curFill = 0
  private latest: Buffer | null = null
  private latestSeq = 0
  private deliveredSeq = 0
  private ended: Error | null = null
  private readonly waiters = new Set<() => void>()
  private stderr = new TailBuffer()
  private stderrLine = ''
  private reportedDims: { width: number; height: number } | null = null
  private warnedDims = false

  constructor(private readonly opts: RpicamVidOptions) {
    this.tool = resolveCameraTool('vid')
  }

  args(): string[] {
    const { width, height, framerate, stride } = this.opts
    const args = [
      '-n',
      '-t',
      '0',
      '--codec',
      'yuv420',
      '--width',
      String(width),
      '--height',
      String(height),
      '--framerate',
      String(framerate),
      '--flush',
      '-o',
      '-',
    ]
    // Verbose output carries the buffer size; not needed when the stride is given.
    if (stride === undefined) args.push('--verbose')
    return args
  }

  private start(): void {
    this.resetStream()
    const child = spawnCamera(this.tool, this.args())
    this.child = child
    this.opts.log.info(`started ${this.tool} ${this.args().join(' ')}`)
    const mine = (): boolean => this.child === child
    child.stdout!.on('data', (chunk: Buffer) => {
      if (mine()) this.onData(chunk)
    })
    child.stderr!.on('data', (chunk: Buffer) => {
      if (mine()) this.onStderr(chunk)
    })
    child.on('error', (err: NodeJS.ErrnoException) => {
      if (!mine() || child.pid !== undefined) return
      this.end(
        err.code === 'ENOENT'
          ? new CameraToolMissingError(missingMessage('rpicam-vid'))
          : new Error(`${this.tool} could not be started: ${err.message}`),
      )
    })
    child.on('close', (code, signal) => {
      if (!mine()) return
      if (this.stderrLine) this.stderr.push(this.stderrLine)
      let msg = describeExit(this.tool, code, signal, this.stderr)
      if (this.curFill > 0 && this.layout)
        msg += `; last frame truncated (${this.curFill} of ${this.layout.frameBytes} bytes)`
      else if (!this.layout && this.pendingBytes > 0)
        msg += `; ${this.pendingBytes} bytes written but the frame size never became known`
      this.end(new Error(msg))
    })
  }

  private resetStream(): void {
    this.layout =
      this.opts.stride !== undefined ? layoutForStride(this.opts.width, this.opts.height, this.opts.stride) : null
    this.pending = []
    this.pendingBytes = 0
    this.cur = null
    this.curFill = 0
    this.latest = null
    this.latestSeq = this.deliveredSeq = 0
    this.ended = null
    this.stderr = new TailBuffer()
    this.stderrLine = ''
    this.reportedDims = null
  }

  /** The stream is over (process gone, or it is being killed): wake waiters with the reason. */
  private end(err: Error): void {
    if (!this.ended) this.ended = err
    this.child = null
    this.notify()
  }

  private fail(err: Error): void {
    const child = this.child
    this.end(err)
    if (child)
      this.stopping = terminate(child).finally(() => {
        this.stopping = null
      })
  }

  private notify(): void {
    for (const w of [...this.waiters]) w()
  }

  private onStderr(chunk: Buffer): void {
    const lines = (this.stderrLine + chunk.toString('latin1')).split('\n')
    this.stderrLine = lines.pop() ?? ''
    if (this.stderrLine.length > 4096) this.stderrLine = ''
    for (const line of lines) {
      // Per-frame verbose lines would push the interesting end of stderr (the error) out of the tail.
      if (!NOISE_LINE.test(line)) this.stderr.push(`${line}\n`)
      const dims = STREAM_LINE.exec(line)
      if (dims) this.reportedDims = { width: Number(dims[1]), height: Number(dims[2]) }
      const size = SIZE_LINE.exec(line)
      if (!size) continue
      const bytes = Number(size[1])
      if (!this.layout) this.setFrameSize(bytes)
      else if (this.opts.stride === undefined && bytes !== this.layout.frameBytes) {
        // Chunking by the old size would tear every following frame: stop rather than hand out mixed frames.
        this.fail(
          new Error(
            `${this.tool} frame size changed from ${this.layout.frameBytes} to ${bytes} bytes mid-stream (restarting)`,
          ),
        )
        return
      }
    }
  }

  private setFrameSize(frameBytes: number): void {
    const { width, height } = this.reportedDims ?? this.opts
    if (this.reportedDims && !this.warnedDims && (width !== this.opts.width || height !== this.opts.height)) {
      this.warnedDims = true
      this.opts.log.warn(
        `${this.tool} configured ${width}x${height} instead of ${this.opts.width}x${this.opts.height}; frames are passed on at that size`,
      )
    }
    const layout = deriveI420Layout(frameBytes, width, height)
    if (!layout) {
      this.fail(
        new Error(
          `${this.tool} writes frames of ${frameBytes} bytes, which is no I420 layout of ${width}x${height}; garbage output (set capture rpicam.stride if the tool is right)`,
        ),
      )
      return
    }
    this.layout = layout
    if (layout.strideY !== width)
      this.opts.log.debug(
        `${this.tool}: ${width}x${height} I420, stride ${layout.strideY}, ${frameBytes} bytes per frame`,
      )
    const pending = this.pending
    this.pending = []
    this.pendingBytes = 0
    for (const chunk of pending) this.onData(chunk)
  }

  private onData(chunk: Buffer): void {
    const layout = this.layout
    if (!layout) {
      this.pending.push(chunk)
      this.pendingBytes += chunk.length
      // The size line precedes each frame's bytes; a whole unannounced frame's worth means it is not coming.
      const guess = layoutForStride(this.opts.width, this.opts.height, Math.ceil(this.opts.width / 64) * 64).frameBytes
      if (this.pendingBytes > 4 * guess + (1 << 20)) {
        this.fail(
          new Error(
            `${this.tool} wrote ${this.pendingBytes} bytes without reporting its frame size; set capture rpicam.stride`,
          ),
        )
      }
      return
    }
    let pos = 0
    while (pos < chunk.length) {
      if (!this.cur) this.cur = Buffer.allocUnsafe(layout.frameBytes)
      const n = Math.min(chunk.length - pos, layout.frameBytes - this.curFill)
      chunk.copy(this.cur, this.curFill, pos, pos + n)
      this.curFill += n
      pos += n
      if (this.curFill === layout.frameBytes) {
        // Swap buffers: the old newest frame (already copied out or superseded) becomes the next fill target.
        const done = this.cur
        this.cur = this.latest
        this.latest = done
        this.curFill = 0
        this.latestSeq++
        this.notify()
      }
    }
  }

  async capture(signal?: AbortSignal): Promise<RawImage> {
    if (this.closed) throw new CaptureAbortedError(`${this.tool}: source closed`)
    if (signal?.aborted) throw new CaptureAbortedError(`${this.tool}: capture aborted`)
    if (!this.child) {
      if (this.stopping) await this.stopping
      this.start()
    }
    return new Promise<RawImage>((resolve, reject) => {
      const check = (): void => {
        if (this.latestSeq > this.deliveredSeq && this.latest && this.layout) {
          this.deliveredSeq = this.latestSeq
          done()
          try {
            resolve(packI420(this.latest, this.layout))
          } catch (err) {
            reject(err)
          }
        } else if (this.closed) {
          done()
          reject(new CaptureAbortedError(`${this.tool}: source closed`))
        } else if (this.ended) {
          done()
          reject(this.ended)
        }
      }
      const onAbort = (): void => {
        done()
        reject(new CaptureAbortedError(`${this.tool}: capture aborted`))
      }
      const timer = setTimeout(() => {
        done()
        const err = new Error(
          `${this.tool}: no frame within ${this.opts.timeoutMs} ms (process killed, restarts on the next capture)`,
        )
        this.fail(err)
        reject(err)
      }, this.opts.timeoutMs)
      const done = (): void => {
        clearTimeout(timer)
        this.waiters.delete(check)
        signal?.removeEventListener('abort', onAbort)
      }
      this.waiters.add(check)
      signal?.addEventListener('abort', onAbort, { once: true })
      check()
    })
  }

  async close(): Promise<void> {
    this.closed = true
    const child = this.child
    if (child) {
      this.child = null
      this.notify()
      await terminate(child)
    } else if (this.stopping) {
      await this.stopping
    }
  }
}
