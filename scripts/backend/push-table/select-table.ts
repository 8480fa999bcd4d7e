/**
 * Makes a table the one in force on a device (`config/set` `{ encoder: { table } }`) and waits until the device's
 * result is ok and its retained `config` report shows it: the roll-back step of a staged roll-out, which selects
 * the table a canary had before. The table must already be on the device (a file or an earlier push); '' selects
 * the IJG quality tables.
 */
import { randomUUID } from 'node:crypto'
import type { MqttClient } from 'mqtt'
import { buildConfigSet, parseConfigReport, parseConfigResult } from '../../../shared/contract/config-messages'
import { parseTopic, topic } from '../../../shared/contract/topics'

export async function selectTable(
  client: MqttClient,
  prefix: string,
  deviceId: string,
  tableId: string,
  timeoutMs: number,
): Promise<void> {
  const requestId = randomUUID()
  const resultTopic = topic(prefix, deviceId, 'config/result')
  const reportTopic = topic(prefix, deviceId, 'config')
  let onMessage: ((t: string, p: Buffer) => void) | undefined
  let timer: NodeJS.Timeout | undefined
  try {
    const done = new Promise<void>((resolve, reject) => {
      let accepted = false
      let shown = false
      onMessage = (t, payload) => {
        const parsed = parseTopic(prefix, t)
        if (parsed?.deviceId !== deviceId) return
        try {
          if (parsed.leaf === 'config/result') {
            const r = parseConfigResult(payload)
            if (r.id !== requestId) return
            if (r.status === 'error') {
              reject(new Error(`device ${deviceId} refused to select table '${tableId}': ${r.error}`))
              return
            }
            accepted = true
          } else if (parsed.leaf === 'config') {
            const enc = (parseConfigReport(payload).config as { encoder?: { table?: unknown } }).encoder
            shown = (enc?.table ?? '') === tableId
          }
        } catch {
          return // a malformed message is not ours to judge
        }
        if (accepted && shown) resolve()
      }
      client.on('message', onMessage)
      timer = setTimeout(
        () =>
          reject(
            new Error(
              `device ${deviceId} did not confirm table '${tableId}' within ${timeoutMs} ms (${accepted ? 'the report never showed it' : 'no config/result'})`,
            ),
          ),
        timeoutMs,
      )
    })
    await client.subscribeAsync([resultTopic, reportTopic], { qos: 1 })
    await client.publishAsync(
      topic(prefix, deviceId, 'config/set'),
      buildConfigSet(requestId, { encoder: { table: tableId } }),
      { qos: 1 },
    )
    await done
  } finally {
    if (timer) clearTimeout(timer)
    if (onMessage) client.off('message', onMessage)
    await client.unsubscribeAsync([resultTopic, reportTopic]).catch(() => {})
  }
}
