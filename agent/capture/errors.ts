/** A `files` source in `once` mode has handed out its last image. Not a failure: the agent stops cleanly. */
export class SourceExhaustedError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'SourceExhaustedError'
  }
}

/** The configured camera tool is not installed (not retryable until the system changes). */
export class CameraToolMissingError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'CameraToolMissingError'
  }
}

/** capture() was cancelled through its AbortSignal, or the source was closed. */
export class CaptureAbortedError extends Error {
  constructor(message = 'capture aborted') {
    super(message)
    this.name = 'AbortError'
  }
}
