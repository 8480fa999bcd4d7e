import { spawn, type ChildProcess } from 'node:child_process'
import { CaptureAbortedError } from './errors'

/** Keep only the end of a stream (the error message is at the end, the chatter before it is not). */
export class TailBuffer {
  private text = ''
  constructor(private readonly max = 2000) {}
  push(chunk: Buffer | string): void {
    this.text += chunk.toString()
    if (this.text.length > this.max * 2) this.text = this.text.slice(-this.max)
  }
  /** The last few lines, one line, for an error message. */
  summary(): string {
    const t = this.text.slice(-this.max).trim()
    if (!t) return ''
    return t.split(/\r?\n/).slice(-4).join(' | ').slice(-600)
  }
}

/**
 * Signal a camera process and everything it started. Children are spawned as process-group leaders so a shell
 * wrapper's own children (which would hold stdout open) go too.
 */
export function killTree(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return
  try {
    // The group outlives its leader while a grandchild still runs, so signal it even after the leader exited.
    process.kill(-child.pid, signal)
  } catch {
    try {
      child.kill(signal)
    } catch {
      /* already gone */
    }
  }
}

/** SIGTERM, then SIGKILL after `graceMs`. Resolves once 'close' fired. Call only while 'close' is still due. */
export function terminate(child: ChildProcess, graceMs = 1500): Promise<void> {
  return new Promise((resolve) => {
    const force = setTimeout(() => killTree(child, 'SIGKILL'), graceMs)
    child.once('close', () => {
      clearTimeout(force)
      resolve()
    })
    killTree(child, 'SIGTERM')
  })
}

export function spawnCamera(command: string, args: string[]): ChildProcess {
  return spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true })
}

export function describeExit(
  label: string,
  code: number | null,
  signal: NodeJS.Signals | null,
  stderr: TailBuffer,
): string {
  const how = signal ? `was killed by ${signal}` : `exited with code ${code}`
  const tail = stderr.summary()
  return `${label} ${how}${tail ? `: ${tail}` : ''}`
}

export interface RunOptions {
  /** Name used in messages, e.g. 'rpicam-still'. */
  label: string
  timeoutMs: number
  signal?: AbortSignal
  /** stdout beyond this is garbage: the process is killed. */
  maxBytes: number
  /** Called with a spawn error (ENOENT etc.) to turn it into a clearer message. */
  spawnError?: (err: NodeJS.ErrnoException) => Error
}

/**
 * Run a camera process that writes one image to stdout and exits. Resolves with all of stdout only after a clean
 * exit (code 0) and after the process has been reaped; rejects with a message naming the tool and the problem on
 * a non-zero exit, a signal, a timeout (the process group is killed), too much output or an abort.
 */
export function runToCompletion(command: string, args: string[], opts: RunOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    if (opts.signal?.aborted) return reject(new CaptureAbortedError(`${opts.label}: capture aborted`))
    const child = spawnCamera(command, args)
    const chunks: Buffer[] = []
    let bytes = 0
    const stderr = new TailBuffer()
    let failure: Error | null = null
    let spawnFailed = false

    const stop = (err: Error): void => {
      if (failure) return
      failure = err
      killTree(child, 'SIGTERM')
      force = setTimeout(() => killTree(child, 'SIGKILL'), 1500)
    }
    let force: NodeJS.Timeout | undefined
    const timer = setTimeout(
      () => stop(new Error(`${opts.label} timed out after ${opts.timeoutMs} ms (killed)`)),
      opts.timeoutMs,
    )
    const onAbort = (): void => stop(new CaptureAbortedError(`${opts.label}: capture aborted`))
    opts.signal?.addEventListener('abort', onAbort, { once: true })

    child.stdout!.on('data', (chunk: Buffer) => {
      bytes += chunk.length
      if (bytes > opts.maxBytes)
        stop(new Error(`${opts.label} wrote more than ${opts.maxBytes} bytes: not the expected image (killed)`))
      else chunks.push(chunk)
    })
    child.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk))
    child.on('error', (err: NodeJS.ErrnoException) => {
      if (child.pid === undefined) {
        // Never started: no 'close' will follow a failed spawn on every Node version, so settle here.
        spawnFailed = true
        finish(opts.spawnError ? opts.spawnError(err) : new Error(`${opts.label} could not be started: ${err.message}`))
      }
    })
    // 'close' (not 'exit'): stdout has been fully read and the process reaped, so no tail of the image is lost.
    child.on('close', (code, signal) => {
      if (spawnFailed) return
      if (failure) return finish(failure)
      if (code !== 0) return finish(new Error(describeExit(opts.label, code, signal, stderr)))
      finish(null, Buffer.concat(chunks, bytes))
    })

    let settled = false
    function finish(err: Error | null, out?: Buffer): void {
      if (settled) return
      settled = true
      clearTimeout(timer)
      if (force) clearTimeout(force)
      opts.signal?.removeEventListener('abort', onAbort)
      if (err) reject(err)
      else resolve(out!)
    }
  })
}

/** Aborts when any of the given signals does (undefined ones ignored). */
export function anySignal(...signals: (AbortSignal | undefined)[]): AbortSignal {
  return AbortSignal.any(signals.filter((s): s is AbortSignal => s !== undefined))
}
