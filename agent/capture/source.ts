import type { RawImage } from '../../shared/codec/types'

/** One camera or replay source. A source yields whole frames or throws; it never yields a half frame. */
export interface FrameSource {
  readonly kind: string
  /** Capture one frame. Rejects with a descriptive Error on camera failure, garbage output or timeout. */
  capture(signal?: AbortSignal): Promise<RawImage>
  /** Release child processes / handles. Idempotent. */
  close(): Promise<void>
}
