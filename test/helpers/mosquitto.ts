/**
 * A real Mosquitto broker for tests: `/usr/sbin/mosquitto` on a free loopback port with a generated config file.
 * Usage: `const b = await startMosquitto(); t.teardown(() => b.stop())`; `b.url` is `mqtt://127.0.0.1:PORT`.
 * `stop()` / `start()` / `restart()` keep the port, so clients can reconnect to the same URL.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort, waitForPort } from '../../scripts/common/ports'

export { freePort, waitForPort }

export const MOSQUITTO = process.env.MOSQUITTO_BIN ?? '/usr/sbin/mosquitto'

export interface MosquittoOptions {
  /** Extra mosquitto.conf lines after the main listener, e.g. `max_packet_size 20000` or a second `listener`. */
  extraConfig?: string[]
  /** Lines before the main listener (options that must come first, like `per_listener_settings true`). */
  globalConfig?: string[]
  port?: number
  /** Keep sessions and queued QoS 1 messages across stop()/start() (persistence file in the temp dir). */
  persistence?: boolean
}

export interface Mosquitto {
  port: number
  url: string
  /** Output of the broker so far (stdout + stderr), for failure messages. */
  output(): string
  start(): Promise<void>
  stop(): Promise<void>
  restart(): Promise<void>
}

export async function startMosquitto(opts: MosquittoOptions = {}): Promise<Mosquitto> {
  const port = opts.port ?? (await freePort())
  const dir = mkdtempSync(join(tmpdir(), 'deepn-mosquitto-'))
  // Started as root, Mosquitto drops to its own user, which must be able to write the persistence file here.
  chmodSync(dir, 0o777)
  const conf = join(dir, 'mosquitto.conf')
  writeFileSync(
    conf,
    [
      ...(opts.globalConfig ?? []),
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      ...(opts.persistence
        ? ['persistence true', `persistence_location ${dir}/`, 'autosave_interval 1']
        : ['persistence false']),
      'log_dest stdout',
      'log_type error',
      'log_type warning',
      ...(opts.extraConfig ?? []),
      '',
    ].join('\n'),
  )
  let proc: ChildProcess | undefined
  let out = ''

  const start = async (): Promise<void> => {
    if (proc) return
    const p = spawn(MOSQUITTO, ['-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] })
    proc = p
    p.stdout!.on('data', (d) => {
      out += d
    })
    p.stderr!.on('data', (d) => {
      out += d
    })
    const exited = new Promise<never>((_, reject) =>
      p.once('exit', (code) => reject(new Error(`mosquitto exited with ${code}: ${out}`))),
    )
    exited.catch(() => {})
    p.once('exit', () => {
      if (proc === p) proc = undefined
    })
    await Promise.race([waitForPort(port), exited])
  }

  const stop = async (): Promise<void> => {
    const p = proc
    if (!p) return
    proc = undefined
    if (p.exitCode !== null) return
    await new Promise<void>((resolve) => {
      p.once('exit', () => resolve())
      p.kill('SIGTERM')
    })
  }

  await start()
  process.once('exit', () => {
    proc?.kill('SIGKILL')
    rmSync(dir, { recursive: true, force: true })
  })
  return {
    port,
    url: `mqtt://127.0.0.1:${port}`,
    output: () => out,
    start,
    stop,
    restart: async () => {
      await stop()
      await start()
    },
  }
}
