/**
 * `deepn run [--config FILE]`: the edge agent. Configuration: schema defaults ← JSON file ← environment ←
 * remote config saved beside the buffer (agent/saved-config/, docs/config.md). Runs until SIGTERM/SIGINT.
 */
import { loadLocalConfig } from '../config-file'
import { Controller } from '../controller'
import { createLogger, errorMessage, type Logger } from '../log'
import { openFrameStore } from '../buffer/open'
import { RecoveringFrameStore } from '../buffer/recovering-store'
import { SqliteFrameStore } from '../buffer/sqlite-store'
import { openSavedConfig } from '../saved-config/open'
import { createSource } from '../capture'
import { encodeJpeg } from '../../shared/codec'
import { ConfigError } from '../../shared/config'
import { parseOptions, UsageError } from '../cli-args'
import { checkCapturePaths, checkMqttPaths } from '../startup-checks'
import { applyDaemonHeapSettings } from '../daemon-heap'

const USAGE = `usage: deepn run [--config FILE]

Runs the edge agent: capture → DeepN-JPEG → SQLite buffer → MQTT. All settings, their defaults and the
environment variables that override them are listed in docs/config.md (DEEPN_MQTT_URL, DEEPN_DEVICE_ID,
DEEPN__<SECTION>__<KEY>=value, …).`

export interface RunArgs {
  config?: string
}

export function parseRunArgs(argv: string[]): RunArgs | 'help' {
  const { values: o } = parseOptions({
    args: argv,
    options: { config: { type: 'string', short: 'c' }, help: { type: 'boolean', short: 'h' } },
  })
  if (o.help) return 'help'
  if (o.config === '') throw new UsageError('--config needs a file name')
  return { config: o.config }
}

/** Opens the buffer and builds a controller from resolved local config (shared with `deepn demo`). */
export function createAgent(local: ReturnType<typeof loadLocalConfig>, log: Logger): Controller {
  const c = local.config
  const options = {
    path: c.buffer.path,
    synchronous: c.buffer.synchronous,
    minFreePercent: c.buffer.minFreePercent,
    limits: {
      maxBytes: c.buffer.maxBytes,
      maxFrames: c.buffer.maxFrames,
      policy: c.buffer.policy,
      ttlMs: c.buffer.ttlSec * 1000,
    },
    log: (m: string) => log.child('buffer').warn(m),
  }
  const opened = openFrameStore(options)
  if (opened.recovered)
    log.error(
      `buffer database was corrupt (${opened.recovered.reason}); moved aside to ${opened.recovered.movedTo.join(', ')}`,
    )
  // The loss itself (corrupt file, vanished database, power cut) is recorded in the fresh store, where the
  // controller finds it for telemetry and `events/loss`, even if this process dies before connecting.
  // A file that goes bad while running is moved aside and replaced the same way, instead of stalling the queue.
  // After the buffer: a schema-1 buffer still holds the configuration, which this moves out of it.
  const legacy = opened.store instanceof SqliteFrameStore ? opened.store : undefined
  const saved = openSavedConfig(c.buffer.path, legacy, log.child('config'))
  let agent: Controller | undefined
  const store = new RecoveringFrameStore({
    store: opened.store,
    open: options,
    log: (m) => log.child('buffer').error(m),
    onRecovered: (info) => agent?.bufferRecovered(info.reason, info.loss),
  })
  agent = new Controller({ local: local.local, store, saved, createSource, encode: encodeJpeg, log })
  return agent
}

/** Resolves on the first SIGTERM/SIGINT after stopping the controller cleanly; a second signal exits at once. */
export function stopOnSignals(agent: Controller, log: Logger): Promise<void> {
  return new Promise((resolve) => {
    let stopping = false
    const handler = (sig: NodeJS.Signals): void => {
      if (stopping) {
        log.warn(`${sig} again: exiting without waiting`)
        process.exit(130)
      }
      stopping = true
      log.info(`${sig}: stopping`)
      agent.stop().then(resolve, (err) => {
        log.error(`stop: ${errorMessage(err)}`)
        resolve()
      })
    }
    process.on('SIGTERM', handler)
    process.on('SIGINT', handler)
  })
}

export async function main(argv: string[]): Promise<number> {
  const log = createLogger()
  const args = parseRunArgs(argv)
  if (args === 'help') {
    console.log(USAGE)
    return 0
  }
  const local = loadLocalConfig({ file: args.config, env: process.env })
  if (!local.config.mqtt.url)
    throw new ConfigError(`'mqtt.url' is required: set it in the config file or DEEPN_MQTT_URL (or try 'deepn demo')`)
  checkCapturePaths(local.config.capture)
  checkMqttPaths(local.config.mqtt)
  log.setLevel(local.config.log.level)
  // Before the agent allocates anything long-lived.
  const v8Flags = applyDaemonHeapSettings()
  if (v8Flags.length) log.debug(`V8: ${v8Flags.join(' ')}`)
  // A daemon: a stray rejection is logged, not fatal; an uncaught exception exits non-zero for systemd to restart.
  process.on('unhandledRejection', (err) => log.error(`unhandled rejection: ${errorMessage(err)}`))
  const agent = createAgent(local, log)
  const stopped = stopOnSignals(agent, log)
  await agent.start()
  await stopped
  return 0
}
