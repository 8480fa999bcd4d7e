/**
 * `deepn simulate`: a fleet of simulated devices publishing real frames, status and telemetry (see ./fleet.ts), to
 * load-test a backend without cameras. Runs until SIGINT/SIGTERM, --seconds or --frames, then prints one summary line.
 */
import { numberOption, parseOptions, UsageError } from '../../../agent/cli-args'
import { brokerUrlProblem } from '../../../agent/mqtt/broker-url'
import { tableIdProblem } from '../../../shared/contract/ids'
import { DEFAULT_PREFIX } from '../../../shared/contract/topics'
import { BROKER_OPTION_SPECS, brokerOptions } from '../broker-options'
import { formatFleetStats, startFleet, type FleetOptions } from './fleet'

export const USAGE = `usage: deepn simulate --devices N --fps F [options]

Simulates N devices, each its own MQTT 5 client publishing like an agent: retained online/offline status (offline
also as last will) on <prefix>/<id>/status, QoS 1 JPEG frames with seqs from 1 and DEEPN metadata on
<prefix>/<id>/frames, telemetry on <prefix>/<id>/telemetry. A device whose previous frame is not yet acknowledged
skips its turn (counted as skipped). Prints one summary line at the end.

  --devices N           simulated devices (default 10)
  --fps F               frames per second per device (default 1)
  --size WxH            frame size (default 640x480)
  --url URL             broker (default $DEEPN_MQTT_URL or mqtt://localhost:1883)
  --prefix P            topic prefix (default ${DEFAULT_PREFIX})
  --id-prefix P         device ids are <P>0001, <P>0002, … (default sim-)
  --seconds S           stop after S seconds (default: run until Ctrl-C)
  --frames N            stop once every device has published N frames
  --table ID            shipped table file (default natural-deepn)
  --quality Q           IJG quality tables (1..100) instead of a table
  --ca FILE --cert FILE --key FILE    TLS files (PEM)
  --insecure            TLS: accept a broker certificate that does not verify
  --username U          or $DEEPN_MQTT_USERNAME (every device logs in as U)
  --password-file FILE  or $DEEPN_MQTT_PASSWORD_FILE, or the password in $DEEPN_MQTT_PASSWORD
  --telemetry S         telemetry period per device in seconds (default 5)
  --progress S          print the running totals every S seconds on stderr (default 10; 0 = only at the end)
  -h, --help            this text`

const MAX_SIDE = 8192

export interface SimulateArgs {
  fleet: FleetOptions
  /** Period of the progress line on stderr; 0 = none. */
  progressMs: number
}

export function parseSimulateArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): SimulateArgs | 'help' {
  const { values: v } = parseOptions({
    args: argv,
    allowPositionals: false,
    options: {
      ...BROKER_OPTION_SPECS,
      devices: { type: 'string' },
      fps: { type: 'string' },
      size: { type: 'string' },
      'id-prefix': { type: 'string' },
      seconds: { type: 'string' },
      frames: { type: 'string' },
      table: { type: 'string' },
      quality: { type: 'string' },
      telemetry: { type: 'string' },
      progress: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  })
  if (v.help) return 'help'
  const size = v.size ?? '640x480'
  const m = /^(\d+)x(\d+)$/.exec(size)
  const width = Number(m?.[1]),
    height = Number(m?.[2])
  if (!m || width < 1 || height < 1 || width > MAX_SIDE || height > MAX_SIDE)
    throw new UsageError(`--size must be WIDTHxHEIGHT with sides in 1..${MAX_SIDE}, got '${size}'`)
  if (v.seconds !== undefined && v.frames !== undefined) throw new UsageError('give --seconds or --frames, not both')
  if (v.table !== undefined && v.quality !== undefined) throw new UsageError('give --table or --quality, not both')
  if (v.table !== undefined) {
    const bad = tableIdProblem(v.table)
    if (bad) throw new UsageError(`--table: ${bad}`)
  }
  const idPrefix = v['id-prefix'] ?? 'sim-'
  if (!/^[A-Za-z0-9_][A-Za-z0-9._-]{0,55}$|^$/.test(idPrefix))
    throw new UsageError(
      `--id-prefix must be up to 56 letters, digits, '.', '_' or '-', not starting with '.' or '-', got '${idPrefix}'`,
    )
  const broker = brokerOptions(v, env)
  const urlProblem = brokerUrlProblem(broker.url)
  if (urlProblem) throw new UsageError(`--url: ${urlProblem}`)
  const seconds = numberOption('--seconds', v.seconds, { above: 0 })
  const fleet: FleetOptions = {
    ...broker,
    idPrefix,
    devices: numberOption('--devices', v.devices, { integer: true, min: 1, max: 10000 }) ?? 10,
    fps: numberOption('--fps', v.fps, { above: 0, max: 1000 }) ?? 1,
    width,
    height,
    table: v.table,
    quality: numberOption('--quality', v.quality, { integer: true, min: 1, max: 100 }),
    durationMs: seconds === undefined ? undefined : seconds * 1000,
    framesPerDevice: numberOption('--frames', v.frames, { integer: true, min: 1 }),
    telemetryIntervalMs: (numberOption('--telemetry', v.telemetry, { above: 0 }) ?? 5) * 1000,
  }
  return { fleet, progressMs: (numberOption('--progress', v.progress, { min: 0 }) ?? 10) * 1000 }
}

export async function main(argv: string[]): Promise<number> {
  const args = parseSimulateArgs(argv)
  if (args === 'help') {
    console.log(USAGE)
    return 0
  }
  const { fleet: opts, progressMs } = args
  let fleet: Awaited<ReturnType<typeof startFleet>>
  try {
    fleet = await startFleet(opts)
  } catch (err) {
    // an unknown table is the --table option here, not the agent's encoder.table key
    if (err instanceof Error && err.name === 'ConfigError')
      throw new UsageError(err.message.replace(/^'encoder\.table': /, '--table: '))
    throw err
  }
  process.stderr.write(
    `[simulate] ${fleet.deviceIds.length} devices connected to ${opts.url} (${fleet.deviceIds[0]}..${fleet.deviceIds.at(-1)}), ` +
      `${opts.width}x${opts.height} ${fleet.tableId}, ~${fleet.frameBytes} bytes/frame, ${opts.fps} fps each\n`,
  )
  const progress =
    progressMs > 0
      ? setInterval(() => process.stderr.write(`[simulate] ${formatFleetStats(fleet.stats())}\n`), progressMs)
      : undefined
  const onSignal = (sig: NodeJS.Signals) => {
    process.stderr.write(`[simulate] ${sig}: stopping\n`)
    void fleet.stop()
  }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  const stats = await fleet.done
  if (progress) clearInterval(progress)
  process.off('SIGINT', onSignal)
  process.off('SIGTERM', onSignal)
  console.log(formatFleetStats(stats))
  return 0
}
