import { DEFAULT_TIMEOUT_MS, DEFAULT_WARMUP_MS, silentLogger, type CaptureLogger, type CaptureOptions } from './options'
import { RetryingSource } from './retry'
import type { FrameSource } from './source'

export type { FrameSource } from './source'
export type { CaptureOptions, CaptureLogger, RetryOptions } from './options'
export { captureOptionsFromConfig } from './options'
export { SourceExhaustedError, CameraToolMissingError, CaptureAbortedError } from './errors'
export { RetryingSource, type RetryingSourceOptions } from './retry'
export { detectCameraTools, describeCameraTools, missingMessage, type CameraTool } from './tools'
export { syntheticFrame } from './synthetic'

/**
 * The camera for a configuration. Throws at once on a missing camera tool (CameraToolMissingError says which tool
 * exists instead). Wrapped in a RetryingSource unless `retry: false`. The options are trusted: they come from
 * settings the schema validated (see CaptureOptions).
 */
export function createSource(o: CaptureOptions): FrameSource {
  const log = o.log ?? silentLogger
  if (o.retry === false) return openSource(o, log)
  const retrying = new RetryingSource(() => openSource(o, log), { ...o.retry, kind: o.source, log, onError: o.onError })
  retrying.openNow()
  return retrying
}

function openSource(o: CaptureOptions, log: CaptureLogger): FrameSource {
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
        source = new RpicamVidSource({
          width: o.width,
          height: o.height,
          timeoutMs,
          framerate: o.rpicam?.framerate ?? 5,
          stride: o.rpicam?.stride,
          log,
        })
      } else {
        const { RpicamStillSource } = require('./rpicam-still') as typeof import('./rpicam-still')
        source = new RpicamStillSource({
          width: o.width,
          height: o.height,
          timeoutMs,
          warmupMs,
          stride: o.rpicam?.stride,
        })
      }
      break
  }
  return source
}
