import type { RawImage } from '../../shared/codec/types'

/** One camera or replay source. A source yields whole frames or throws; it never yields a half frame. */
export interface FrameSource {
  readonly kind: string
  /** Capture one frame. Rejects with a descriptive Error on camera failure, garbage output or timeout. */
  capture(signal?: AbortSignal): Promise<RawImage>
  /**
   * Optional: the caller is done with `image` and keeps no reference to it, so the source may write a later frame
   * into its memory. Reusing one frame buffer instead of allocating megabytes per frame keeps the process's malloc
   * heap from growing with dead frames (glibc serves big blocks from its heap once one has been freed, and keeps
   * the freed space). Sources that allocate per frame ignore it.
   */
  release?(image: RawImage): void
  /** Release child processes / handles. Idempotent. */
  close(): Promise<void>
}
