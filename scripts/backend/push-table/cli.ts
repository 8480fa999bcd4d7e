/**
 * `deepn push-table`: push a table file to a device through remote config and wait until the device reports it
 * in force (see scripts/backend/push-table/push-table.ts for the protocol and the API behind it).
 */
import { readFileSync } from 'node:fs'
import { numberOption, parseOptions, UsageError } from '../../../agent/cli-args'
import { parseTableFile } from '../../../shared/codec/tables'
import { DEFAULT_PREFIX } from '../../../shared/contract/topics'
import { brokerUrlProblem } from '../../../agent/mqtt/broker-url'
import { pushTable } from './push-table'

const HELP = `usage: deepn push-table --url mqtt://HOST:PORT --device ID --table FILE [options]

  --url URL         broker URL (or DEEPN_MQTT_URL)
  --device ID       target device id
  --table FILE      table JSON ({ id, luma[64], chroma[64], huffman?, source? }); id, luma, chroma and, when
                    present, the trained Huffman set are sent (source stays behind)
  --prefix P        topic prefix (default ${DEFAULT_PREFIX})
  --no-select       store the table on the device without making it the table in force
  --timeout MS      wait for the device's result and report (default 15000)`

export async function main(argv: string[]): Promise<number> {
  const { values: o } = parseOptions({
    args: argv,
    options: {
      url: { type: 'string' },
      device: { type: 'string' },
      table: { type: 'string' },
      prefix: { type: 'string' },
      'no-select': { type: 'boolean' },
      timeout: { type: 'string' },
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
  if (!o.device) throw new UsageError('--device is required')
  if (!o.table) throw new UsageError('--table is required')
  const timeoutMs = numberOption('--timeout', o.timeout, { above: 0 }) ?? 15000
  const table = parseTableFile(readFileSync(o.table, 'utf8'), o.table)
  const r = await pushTable({ url, deviceId: o.device, table, prefix: o.prefix, select: !o['no-select'], timeoutMs })
  console.log(
    `device ${o.device}: table ${r.tableId}${table.huffman ? ' (with its Huffman set)' : ''} applied (changed ${r.applied.join(', ') || 'nothing'}); reported config version ${r.reportedVersion}, encoder.table = ${r.reportedTable || '(quality)'}`,
  )
  return 0
}
