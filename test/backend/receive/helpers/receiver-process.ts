/**
 * `deepn receive` in a child process, so a test can SIGKILL it mid-stream. It runs the built CLI as a user does
 * (`npm test` builds first): compiling the sources through tap's TypeScript loader took seconds per start, and over
 * 20 s on a loaded machine.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { CLI } from '../../../helpers/agent-process'
import { sleep } from './sim-agent'

export class ReceiverProcess {
  readonly proc: ChildProcess
  stderr = ''
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>

  constructor(args: string[]) {
    if (!existsSync(CLI)) throw new Error(`${CLI} missing: build first (npx tsc -p .)`)
    this.proc = spawn(process.execPath, [CLI, 'receive', ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    this.proc.stdout!.on('data', (d) => {
      this.stderr += d
    })
    this.proc.stderr!.on('data', (d) => {
      this.stderr += d
    })
    this.exited = new Promise((resolve) => this.proc.once('exit', (code, signal) => resolve({ code, signal })))
  }

  /** Waits until stderr contains `text` (e.g. the subscription line). */
  async waitForOutput(text: string | RegExp, ms = 20000): Promise<void> {
    const deadline = Date.now() + ms
    const has = () => (typeof text === 'string' ? this.stderr.includes(text) : text.test(this.stderr))
    while (!has()) {
      if (this.proc.exitCode !== null)
        throw new Error(`receiver exited (${this.proc.exitCode}) before printing ${text}:\n${this.stderr}`)
      if (Date.now() > deadline) throw new Error(`receiver did not print ${text} within ${ms} ms:\n${this.stderr}`)
      await sleep(50)
    }
  }

  kill(signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill(signal)
    return this.exited
  }
}
