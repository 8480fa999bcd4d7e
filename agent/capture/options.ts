import type { AgentConfig } from '../../shared/config/types'
/** The narrow logging surface capture needs; the agent's Logger satisfies it. */
export interface CaptureLogger {
  debug(msg: string): void
  info(msg: string): void
  warn(msg: string): void
}

export interface RetryOptions {
  /** First delay after a failure (ms). Default 500. */
  minMs?: number
  /** Delay cap (ms). Default 30000. */
  maxMs?: number
  /** Give up after this many consecutive failures (the last error is thrown). Default: never. */
  maxAttempts?: number
  /** Close the source and open it anew after this many consecutive failures (a wedged camera process). Default 3. */
  reopenAfter?: number
}

/**
 * What createSource needs. A plain object: the agent maps its validated `capture.*` settings onto it
 * (captureOptionsFromConfig); createSource trusts it, since the schema (shared/config) is the one place that checks
 * them: code that builds options by hand checks its settings with `validateSection('capture', …)` first. Nothing
 * here comes from remote config unchecked — executables are fixed names looked up on PATH, never configurable commands.
 */
export interface CaptureOptions {
  source: 'synthetic' | 'files' | 'raspistill' | 'rpicam'
  width: number
  height: number
  files?: {
    dir: string
    /** Start over after the last image; otherwise capture() rejects with SourceExhaustedError. */
    loop: boolean
    /** Shell-style glob on the file name (`*`, `?`), case-insensitive. Default: common image extensions. */
    pattern?: string
  }
  /** One capture (a camera process run, or waiting for the next stream frame) longer than this fails. Default 15000. */
  timeoutMs?: number
  rpicam?: {
    mode: 'still' | 'vid'
    /** `vid`: frame rate asked of rpicam-vid; frames in between are read and dropped. Default 5. */
    framerate?: number
    /** Y-plane row stride in bytes if known; otherwise taken from rpicam-vid's verbose output or the frame size. */
    stride?: number
  }
  /** raspistill `-t` / rpicam-still `-t`: time the camera runs (AE/AWB settle) before the still (ms). Default 1000. */
  warmupMs?: number
  /**
   * The pixel layout wanted, for sources that can produce either (synthetic): `yuv420p` for a 4:2:0 encoder
   * (half the memory, no colour conversion per frame), `rgb` otherwise. Cameras deliver what they deliver.
   */
  pixelFormat?: 'rgb' | 'yuv420p'
  /** Wrap in a RetryingSource (default) or not (`false`). */
  retry?: RetryOptions | false
  log?: CaptureLogger
  /** Called for every failed capture attempt inside the retry wrapper (telemetry: error count, last error). */
  onError?: (err: Error, consecutiveFailures: number) => void
}

export const DEFAULT_TIMEOUT_MS = 15000
export const DEFAULT_WARMUP_MS = 1000

export const silentLogger: CaptureLogger = { debug() {}, info() {}, warn() {} }

/** The agent's `capture.*` settings as createSource options: the one mapping `deepn run` and `deepn calibrate` share. */
export function captureOptionsFromConfig(c: AgentConfig['capture'], log?: CaptureLogger): CaptureOptions {
  return {
    source: c.source,
    width: c.width,
    height: c.height,
    timeoutMs: c.timeoutMs,
    warmupMs: c.warmupMs,
    files: c.filesDir ? { dir: c.filesDir, loop: c.filesLoop } : undefined,
    rpicam: { mode: c.rpicamMode, framerate: c.rpicamFramerate, stride: c.rpicamStride || undefined },
    log,
  }
}
