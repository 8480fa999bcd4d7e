/**
 * Backend API: push a quantization table to a device through remote config and wait until the device has it in
 * force. Protocol (docs/protocol.md; the messages are built and parsed with deepn-edge/contract):
 *   1. publish `<prefix>/<deviceId>/config/set` ← `{ "id": <requestId>, "config": { "encoder": { "tables":
 *      { <tableId>: { luma, chroma, huffman? } }, "table": <tableId> } } }` (QoS 1; `select: false` only stores the
 *      table; `huffman`, the table's trained Huffman set, is sent when the table has one);
 *   2. wait for `<prefix>/<deviceId>/config/result` `{ id: <requestId>, status, data: { applied } | error }`: a
 *      rejection throws `PushTableError` carrying the device's reason;
 *   3. wait for the retained `<prefix>/<deviceId>/config` report `{ version, config }` to show the table, its
 *      Huffman set included (or absent when none was sent), and, when selected, `encoder.table` = its id: proof the
 *      device applied and persisted it. Frames encoded from then on name the table id in their metadata.
 *
 * In this repository (the package's `exports` publish only `deepn-edge/codec` and `deepn-edge/contract`, so a
 * backend in its own project builds the request with `buildConfigSet` from `deepn-edge/contract`, or copies this file):
 *   import { pushTable } from './scripts/backend/push-table/push-table'
 *   const r = await pushTable({ url: 'mqtt://broker:1883', deviceId: 'cam-1', table })  // table: { id, luma, chroma, huffman? }
 */
import { randomUUID } from 'node:crypto'
import mqtt, { type MqttClient } from 'mqtt'
import { brokerUrlProblem, describeConnectError } from '../../../agent/mqtt/broker-url'
import { cleanHuffmanTables, validateHuffmanTables } from '../../../shared/codec/huffman-tables'
import { validateTables } from '../../../shared/codec/tables'
import type { HuffmanTables } from '../../../shared/codec/types'
import { ownValue } from '../../../shared/config/own-keys'
import {
  buildConfigSet,
  parseConfigReport,
  parseConfigResult,
  type ConfigResult,
} from '../../../shared/contract/config-messages'
import { deviceIdProblem, tableIdProblem } from '../../../shared/contract/ids'
import { DEFAULT_PREFIX, parseTopic, topic } from '../../../shared/contract/topics'

export interface PushableTable {
  id: string
  luma: ArrayLike<number>
  chroma: ArrayLike<number>
  /** Trained Huffman set (a table file's `huffman`); frames are entropy-coded with it once the table is in force. */
  huffman?: HuffmanTables
}

export interface PushTableOptions {
  /** An connected client to reuse, or `url` to connect (and disconnect afterwards). */
  client?: MqttClient
  url?: string
  /** Extra mqtt.js options when connecting (credentials, TLS). */
  connectOptions?: mqtt.IClientOptions
  prefix?: string
  deviceId: string
  table: PushableTable
  /** Also make it the table in force (`encoder.table`); default true. */
  select?: boolean
  /** Correlates the request with its `config/result`; default a random UUID. */
  requestId?: string
  /** Overall wait for the result and the report, ms (default 15000). */
  timeoutMs?: number
}

export interface PushTableResult {
  requestId: string
  tableId: string
  /** Keys the device changed, from `config/result`. */
  applied: string[]
  /** `version` of the reported configuration that shows the table. */
  reportedVersion: number
  /** `encoder.table` in the report. */
  reportedTable: string
}

export class PushTableError extends Error {
  constructor(
    message: string,
    readonly reason: 'rejected' | 'timeout' | 'invalid' | 'unreachable',
    readonly result?: ConfigResult,
  ) {
    super(message)
    this.name = 'PushTableError'
  }
}

/** The `config/set` body for a table push (exported for backends that publish themselves). */
export function tablePushMessage(table: PushableTable, requestId: string, select = true): string {
  const idProblem = tableIdProblem(table?.id)
  if (idProblem) throw new PushTableError(idProblem, 'invalid')
  try {
    validateTables(table, `table ${table.id}`)
    if (table.huffman !== undefined) validateHuffmanTables(table.huffman, `table ${table.id} huffman`)
  } catch (err) {
    throw new PushTableError((err as Error).message, 'invalid')
  }
  const pushed: Record<string, unknown> = { luma: Array.from(table.luma), chroma: Array.from(table.chroma) }
  if (table.huffman !== undefined) pushed.huffman = cleanHuffmanTables(table.huffman) // as the device stores and reports it
  const encoder: Record<string, unknown> = { tables: { [table.id]: pushed } }
  if (select) encoder.table = table.id
  return buildConfigSet(requestId, { encoder })
}

interface Reported {
  version?: number
  config?: {
    encoder?: { table?: string; tables?: Record<string, { luma?: number[]; chroma?: number[]; huffman?: unknown }> }
  }
}

const same = (a: unknown, b: ArrayLike<number>): boolean =>
  Array.isArray(a) && a.length === b.length && a.every((v, i) => v === b[i])

/** The reported set equals the pushed one; a table pushed without a set must be reported without one. */
function sameHuffman(reported: unknown, pushed: HuffmanTables | undefined): boolean {
  if (pushed === undefined) return reported === undefined
  if (reported === null || typeof reported !== 'object') return false
  const r = reported as Record<string, { counts?: unknown; symbols?: unknown } | undefined>
  return (['lumaDc', 'lumaAc', 'chromaDc', 'chromaAc'] as const).every((k) => {
    const p = pushed[k]
    if (!p) return r[k] === undefined
    return !!r[k] && same(r[k]!.counts, p.counts) && same(r[k]!.symbols, p.symbols)
  })
}

function shows(report: Reported, table: PushableTable, select: boolean): boolean {
  const enc = report.config?.encoder
  const t = enc?.tables ? ownValue(enc.tables, table.id) : undefined
  if (!t) return false
  return (
    same(t.luma, table.luma) &&
    same(t.chroma, table.chroma) &&
    sameHuffman(t.huffman, table.huffman) &&
    (!select || enc?.table === table.id)
  )
}

export async function pushTable(opts: PushTableOptions): Promise<PushTableResult> {
  const prefix = opts.prefix ?? DEFAULT_PREFIX
  const deviceProblem = deviceIdProblem(opts.deviceId)
  if (deviceProblem) throw new PushTableError(`deviceId: ${deviceProblem}`, 'invalid')
  const requestId = opts.requestId ?? randomUUID()
  const select = opts.select ?? true
  const body = tablePushMessage(opts.table, requestId, select)
  if (!opts.client && !opts.url)
    throw new PushTableError('pushTable needs a connected `client` or a broker `url`', 'invalid')
  if (!opts.client) {
    const problem = brokerUrlProblem(opts.url!)
    if (problem) throw new PushTableError(problem, 'invalid')
  }
  let client: MqttClient
  try {
    client =
      opts.client ??
      (await mqtt.connectAsync(opts.url!, {
        reconnectPeriod: 1000,
        connectTimeout: opts.timeoutMs ?? 15000,
        ...opts.connectOptions,
      }))
  } catch (err) {
    throw new PushTableError(describeConnectError(opts.url!, err), 'unreachable')
  }
  const resultTopic = topic(prefix, opts.deviceId, 'config/result')
  const reportTopic = topic(prefix, opts.deviceId, 'config')
  let onMessage: ((t: string, p: Buffer) => void) | undefined
  let timer: NodeJS.Timeout | undefined
  try {
    const done = new Promise<PushTableResult>((resolve, reject) => {
      let result: (ConfigResult & { status: 'ok' }) | undefined
      let lastReport: Reported | undefined
      const check = (): void => {
        if (result && lastReport && shows(lastReport, opts.table, select)) {
          resolve({
            requestId,
            tableId: opts.table.id,
            applied: result.data.applied,
            reportedVersion: lastReport.version ?? 0,
            reportedTable: lastReport.config?.encoder?.table ?? '',
          })
        }
      }
      onMessage = (t, payload) => {
        const parsed = parseTopic(prefix, t)
        if (!parsed || parsed.deviceId !== opts.deviceId) return
        try {
          if (parsed.leaf === 'config/result') {
            const r = parseConfigResult(payload)
            if (r.id !== requestId) return
            if (r.status === 'error') {
              reject(
                new PushTableError(
                  `device ${opts.deviceId} rejected table ${opts.table.id}: ${r.error}`,
                  'rejected',
                  r,
                ),
              )
              return
            }
            result = r
          } else if (parsed.leaf === 'config') {
            lastReport = parseConfigReport(payload) as Reported
          }
        } catch {
          return
        } // a malformed message is not ours to judge: ignore it

        check()
      }
      client.on('message', onMessage)
      timer = setTimeout(() => {
        const what = !result
          ? `no config/result for request ${requestId}`
          : `the reported config never showed table ${opts.table.id}`
        reject(
          new PushTableError(
            `device ${opts.deviceId} did not confirm within ${opts.timeoutMs ?? 15000} ms: ${what} (is it online and subscribed to ${prefix}/${opts.deviceId}/config/set?)`,
            'timeout',
            result,
          ),
        )
      }, opts.timeoutMs ?? 15000)
    })
    await client.subscribeAsync([resultTopic, reportTopic], { qos: 1 })
    await client.publishAsync(topic(prefix, opts.deviceId, 'config/set'), body, { qos: 1 })
    return await done
  } finally {
    if (timer) clearTimeout(timer)
    if (onMessage) client.off('message', onMessage)
    if (!opts.client) await client.endAsync()
    else await client.unsubscribeAsync([resultTopic, reportTopic]).catch(() => {})
  }
}
