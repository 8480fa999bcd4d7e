/**
 * `deepn push-table`: push a table file to a device through remote config and wait until the device reports it
 * in force (see scripts/backend/push-table/push-table.ts for the protocol and the API behind it), or, with
 * `--devices PATTERN`, roll it out in stages: canaries first, watched, then the rest or a roll-back (rollout.ts).
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { numberOption, parseOptions, UsageError } from '../../../agent/cli-args'
import { applyCredentials } from '../../../agent/mqtt/credentials'
import { parseTableFile } from '../../../shared/codec/tables'
import { DEFAULT_PREFIX } from '../../../shared/contract/topics'
import { deviceIdProblem } from '../../../shared/contract/ids'
import { brokerUrlProblem } from '../../../agent/mqtt/broker-url'
import { BROKER_OPTION_SPECS, brokerOptions } from '../broker-options'
import { devicePatternProblem } from './device-pattern'
import { pushTable } from './push-table'
import { rolloutTable } from './rollout'
import { formatRolloutReport } from './rollout-report'

const HELP = `usage: deepn push-table --url mqtt://HOST:PORT --device ID --table FILE [options]
       deepn push-table --url mqtt://HOST:PORT --devices PATTERN --table FILE [--canary K] [roll-out options]

  --url URL         broker URL (or DEEPN_MQTT_URL)
  --device ID       target device id
  --table FILE      table JSON ({ id, luma[64], chroma[64], huffman?, source? }); id, luma, chroma and, when
                    present, the trained Huffman set are sent (source stays behind)
  --prefix P        topic prefix (default ${DEFAULT_PREFIX})
  --no-select       store the table on the device without making it the table in force
  --timeout MS      wait for a device's result and report (default 15000); in a roll-out also the wait for
                    baseline frames and, beyond --watch-seconds, for the watched frames
  --username U, --password-file F (or DEEPN_MQTT_USERNAME, DEEPN_MQTT_PASSWORD_FILE / DEEPN_MQTT_PASSWORD),
  --ca F, --cert F, --key F, --insecure   broker login and TLS

staged roll-out (instead of --device):
  --devices PATTERN     online devices (retained status) whose id matches the glob ('*', '?'), e.g. 'cam-*'
  --canary K            canaries: the first K matching ids in sorted order (default 1)
  --canary-ids A,B      these canaries instead
  --watch-frames N      frames naming the table each canary must send, and baseline frames before (default 5)
  --watch-seconds S     watch the canaries at least this long (default 0)
  --max-bytes-ratio X   roll back when a canary's bytes per frame grow more than X times (default 1.5)
  --batch N             devices pushed at once after the canaries (default 10)
  --discovery-ms MS     time to collect retained status and config messages (default 1500)
  --report FILE         write the outcome of every device as JSON
  A failed canary check selects every canary's previous table again; the others never receive the table.
  Exit status 1 on a roll-back or a failed push.`

export async function main(argv: string[]): Promise<number> {
  const { values: o } = parseOptions({
    args: argv,
    options: {
      ...BROKER_OPTION_SPECS,
      device: { type: 'string' },
      devices: { type: 'string' },
      table: { type: 'string' },
      'no-select': { type: 'boolean' },
      timeout: { type: 'string' },
      canary: { type: 'string' },
      'canary-ids': { type: 'string' },
      'watch-frames': { type: 'string' },
      'watch-seconds': { type: 'string' },
      'max-bytes-ratio': { type: 'string' },
      batch: { type: 'string' },
      'discovery-ms': { type: 'string' },
      report: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  })
  if (o.help) {
    console.log(HELP)
    return 0
  }
  const url = o.url ?? process.env.DEEPN_MQTT_URL
  if (!url) throw new UsageError('--url (or DEEPN_MQTT_URL) is required')
  const urlProblem = brokerUrlProblem(url)
  if (urlProblem) throw new UsageError(`--url: ${urlProblem}`)
  const broker = brokerOptions({ ...o, url }, process.env)
  const connectOptions = applyCredentials({}, broker)
  if (o.device !== undefined && o.devices !== undefined) throw new UsageError('give --device or --devices, not both')
  if (o.device === undefined && o.devices === undefined)
    throw new UsageError('--device is required (or --devices PATTERN for a staged roll-out)')
  if (!o.table) throw new UsageError('--table is required')
  const timeoutMs = numberOption('--timeout', o.timeout, { above: 0 }) ?? 15000
  const rolloutOnly = [
    'canary',
    'canary-ids',
    'watch-frames',
    'watch-seconds',
    'max-bytes-ratio',
    'batch',
    'discovery-ms',
    'report',
  ] as const
  if (o.devices === undefined) {
    const stray = rolloutOnly.find((k) => o[k] !== undefined)
    if (stray) throw new UsageError(`--${stray} belongs to a roll-out: use it with --devices PATTERN`)
  } else if (o['no-select'])
    throw new UsageError('--no-select cannot be used with --devices: a roll-out selects the table')
  const rollout = o.devices === undefined ? undefined : rolloutFlags(o.devices, o)
  const table = parseTableFile(readFileSync(o.table, 'utf8'), o.table)

  if (o.devices === undefined) {
    const r = await pushTable({
      url,
      connectOptions,
      deviceId: o.device!,
      table,
      prefix: broker.prefix,
      select: !o['no-select'],
      timeoutMs,
    })
    console.log(
      `device ${o.device}: table ${r.tableId}${table.huffman ? ' (with its Huffman set)' : ''} applied (changed ${r.applied.join(', ') || 'nothing'}); reported config version ${r.reportedVersion}, encoder.table = ${r.reportedTable || '(quality)'}`,
    )
    return 0
  }

  const report = await rolloutTable({
    url,
    connectOptions,
    prefix: broker.prefix,
    pattern: o.devices,
    table,
    ...rollout!,
    timeoutMs,
    log: (line) => console.error(line),
  })
  console.log(formatRolloutReport(report))
  if (o.report) writeFileSync(o.report, `${JSON.stringify(report, null, 2)}\n`)
  return report.result === 'rolled-out' ? 0 : 1
}

/** The roll-out flags, checked before anything is read or connected. */
function rolloutFlags(pattern: string, o: Record<string, string | boolean | undefined>) {
  const str = (k: string) => o[k] as string | undefined
  const patternProblem = devicePatternProblem(pattern)
  if (patternProblem) throw new UsageError(`--devices: ${patternProblem}`)
  const canary = numberOption('--canary', str('canary'), { min: 1, integer: true })
  let canaryIds: string[] | undefined
  const rawIds = str('canary-ids')
  if (rawIds !== undefined) {
    canaryIds = rawIds.split(',').map((s) => s.trim())
    const bad = canaryIds.map((id) => deviceIdProblem(id)).find((p) => p)
    if (bad) throw new UsageError(`--canary-ids: ${bad}`)
    if (canary !== undefined && canary !== canaryIds.length)
      throw new UsageError(`--canary ${canary} disagrees with the ${canaryIds.length} id(s) of --canary-ids`)
  }
  return {
    canary,
    canaryIds,
    batch: numberOption('--batch', str('batch'), { min: 1, integer: true }),
    watchFrames: numberOption('--watch-frames', str('watch-frames'), { min: 1, integer: true }),
    watchSeconds: numberOption('--watch-seconds', str('watch-seconds'), { min: 0 }),
    maxBytesRatio: numberOption('--max-bytes-ratio', str('max-bytes-ratio'), { above: 0 }),
    discoveryMs: numberOption('--discovery-ms', str('discovery-ms'), { min: 0, integer: true }),
  }
}
