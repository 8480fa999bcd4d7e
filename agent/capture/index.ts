import { DEFAULT_TIMEOUT_MS, DEFAULT_WARMUP_MS, silentLogger, type CaptureOptions } from './options'
import { RetryingSource } from './retry'
import type { FrameSource } from './source'

export type { FrameSource } from './source'
export type { CaptureOptions, CaptureLogger, RetryOptions } from './options'
export { captureOptionsFromConfig } from './options'
export { SourceExhaustedError, CameraToolMissingError, CaptureAbortedError } from './errors'
export { RetryingSource, backoffDelay } from './retry'
export { detectCameraTools, describeCameraTools, missingMessage, type CameraTool } from './tools'
export { syntheticFrame } from './synthetic'

const MAX_SIDE = 16384

/** Reject options that cannot work, with the field named. */
export function validateCaptureOptions(o: CaptureOptions): void {
  const sources = ['synthetic', 'files', 'raspistill', 'rpicam']
  if (!sources.includes(o.source)) throw new Error(`capture: unknown source '${String(o.source)}' (expected ${sources.join(', ')})`)
  for (const k of ['width', 'height'] as const) {
    if (!Number.isInteger(o[k]) || o[k] < 1 || o[k] > MAX_SIDE) throw new Error(`capture: ${k} must be an integer 1..${MAX_SIDE}, got ${String(o[k])}`)
  }
  if (o.timeoutMs !== undefined && !(Number.isFinite(o.timeoutMs) && o.timeoutMs > 0)) throw new Error(`capture: timeoutMs must be > 0, got ${o.timeoutMs}`)
  if (o.source === 'files' && !o.files?.dir) throw new Error(`capture: source 'files' needs files.dir`)
  if (o.source === 'rpicam') {
    const mode = o.rpicam?.mode ?? 'still'
    if (mode !== 'still' && mode !== 'vid') throw new Error(`capture: rpicam.mode must be 'still' or 'vid', got '${String(mode)}'`)
    if (o.width % 2 || o.height % 2) throw new Error(`capture: rpicam needs an even width and height for I420, got ${o.width}x${o.height}`)
    const fr = o.rpicam?.framerate
    if (fr !== undefined && !(fr > 0 && fr <= 240)) throw new Error(`capture: rpicam.framerate must be in (0, 240], got ${fr}`)
    const st = o.rpicam?.stride
    if (st !== undefined && !(Number.isInteger(st) && st >= o.width && st % 2 === 0)) throw new Error(`capture: rpicam.stride must be an even integer >= width ${o.width}, got ${st}`)
  }
}

/**
 * The camera for a configuration. Throws at once on bad options or a missing camera tool (CameraToolMissingError
 * says which tool exists instead). Wrapped in a RetryingSource unless `retry: false`.
 */
export function createSource(o: CaptureOptions): FrameSource {
  validateCaptureOptions(o)
  const log = o.log ?? silentLogger
  const timeoutMs = o.timeoutMs ?? DEFAULT_TIMEOUT_MS
  const warmupMs = o.warmupMs ?? DEFAULT_WARMUP_MS
  let source: FrameSource
  // Each source's modules (node-raspistill, image decoders, child-process plumbing) load only when that source is
  // used: on a Pi every MB of RSS counts against the agent's 64 MB target.
  switch (o.source) {
    case 'synthetic': {
      const { SyntheticSource } = require('./synthetic') as typeof import('./synthetic')
      source = new SyntheticSource(o.width, o.height, o.pixelFormat)
      break
    }
    case 'files': {
      const { FilesSource } = require('./files') as typeof import('./files')
      source = new FilesSource(o.files!)
      break
    }
    case 'raspistill': {
      const { RaspistillSource } = require('./raspistill') as typeof import('./raspistill')
      source = new RaspistillSource({ width: o.width, height: o.height, timeoutMs, warmupMs, log })
      break
    }
    case 'rpicam':
      if ((o.rpicam?.mode ?? 'still') === 'vid') {
        const { RpicamVidSource } = require('./rpicam-vid') as typeof import('./rpicam-vid')
        source = new RpicamVidSource({ width: o.width, height: o.height, timeoutMs, framerate: o.rpicam?.framerate ?? 5, stride: o.rpicam?.stride, log })
      } else {
        const { RpicamStillSource } = require('./rpicam-still') as typeof import('./rpicam-still')
        source = new RpicamStillSource({ width: o.width, height: o.height, timeoutMs, warmupMs, stride: o.rpicam?.stride })
      }
      break
  }
  if (o.retry === false) return source
  return new RetryingSource(source, { ...o.retry, log, onError: o.onError })
}
