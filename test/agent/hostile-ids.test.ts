/**
 * Ids that name Object.prototype properties (`constructor`, `toString`, `__proto__`, …) sent over `config/set` to
 * the real agent process on a real Mosquitto: as the table id, as a pushed table's name, as the device id and as a
 * config key. Each must be refused with a reason while frames keep flowing with the table in force, and the saved
 * configuration must come back unchanged after a restart. Also: a saved configuration that already holds such an
 * id (written by an agent before the fix) must not stop the frames after a restart.
 */
import t from 'tap'
import { join } from 'node:path'
import { readJpegMetadata } from '../../shared/codec/metadata'
import { writeSchema1Buffer } from '../buffer/fixtures/schema1'
import { startMosquitto } from '../helpers/mosquitto'
import { subscribe, type Subscriber } from '../helpers/subscriber'
import { agentDir, spawnAgent, writeConfig } from '../helpers/agent-process'

const NAMES = Object.getOwnPropertyNames(Object.prototype)
const TABLE = Array.from({ length: 64 }, (_, i) => 3 + (i % 11))
const TABLE_JSON = JSON.stringify({ luma: TABLE, chroma: TABLE })

interface Meta {
  seq: number
  tableId: string
  width: number
}
const metaOf = (p: Buffer): Meta => readJpegMetadata(new Uint8Array(p)) as unknown as Meta
const frames = (sub: Subscriber): Meta[] => sub.on('frames').map((m) => metaOf(m.payload))
const results = (sub: Subscriber): { id: string | null; ok: boolean; error?: string }[] =>
  sub.on('config/result').map((m) => JSON.parse(m.payload.toString()))

function agentConfig(url: string, dir: string, deviceId: string): Record<string, unknown> {
  return {
    deviceId,
    mqtt: { url, reconnectMinMs: 100, reconnectMaxMs: 500 },
    capture: { width: 64, height: 48, intervalMs: 25 },
    buffer: { path: join(dir, 'buffer.db') },
    log: { level: 'warn' },
  }
}

/** `config/set` bodies as raw JSON text, so a key like `__proto__` stays an own property of the parsed document. */
function hostileRequests(): { id: string; body: string }[] {
  const out: { id: string; body: string }[] = []
  NAMES.forEach((name, i) => {
    const k = JSON.stringify(name)
    const add = (kind: string, config: string): void => {
      out.push({ id: `${kind}-${i}`, body: `{"id":"${kind}-${i}","config":${config}}` })
    }
    add('table', `{"encoder":{"table":${k}}}`)
    add('pushed', `{"encoder":{"tables":{${k}:${TABLE_JSON}}}}`)
    add('pushed-selected', `{"encoder":{"table":${k},"tables":{${k}:${TABLE_JSON}}}}`)
    add('device', `{"deviceId":${k}}`)
    add('key', `{${k}:1}`)
    add('section-key', `{"capture":{${k}:1}}`)
    add(
      'table-field',
      `{"encoder":{"tables":{"other":{"luma":${JSON.stringify(TABLE)},"chroma":${JSON.stringify(TABLE)},${k}:1}}}}`,
    )
  })
  return out
}

t.test(
  'every Object.prototype name as table id, pushed table, device id and key is refused; frames go on; the saved config survives a restart',
  async (t) => {
    const broker = await startMosquitto()
    t.teardown(() => broker.stop())
    const dir = agentDir()
    const deviceId = 'hostile'
    const sub = await subscribe(broker.url, [`deepn/${deviceId}/#`])
    t.teardown(() => sub.close())
    const cfg = writeConfig(dir, agentConfig(broker.url, dir, deviceId))
    let agent = spawnAgent(cfg)
    t.teardown(() => agent.signal('SIGKILL'))
    await sub.waitFor(() => sub.on('config').length >= 1, 30000, 'the reported config (the agent is subscribed)')

    // The table in force before the hostile requests: pushed and selected, answered ok.
    await sub.client.publishAsync(
      `deepn/${deviceId}/config/set`,
      `{"id":"prev","config":{"encoder":{"table":"prev","tables":{"prev":${TABLE_JSON}}}}}`,
      { qos: 1 },
    )
    await sub.waitFor(() => results(sub).some((r) => r.id === 'prev'), 10000, 'the result for prev')
    t.match(
      results(sub).find((r) => r.id === 'prev'),
      { ok: true },
    )
    await sub.waitFor(() => frames(sub).some((f) => f.tableId === 'prev'), 10000, 'a frame with table prev')

    const requests = hostileRequests()
    for (const r of requests) await sub.client.publishAsync(`deepn/${deviceId}/config/set`, r.body, { qos: 1 })
    await sub.waitFor(() => results(sub).length >= 1 + requests.length, 30000, `${requests.length} results`)
    for (const r of requests) {
      const res = results(sub).find((x) => x.id === r.id)
      t.equal(res?.ok, false, `${r.body} is refused`)
      t.ok(typeof res?.error === 'string' && res.error.length > 10, `${r.id}: with a reason (${res?.error})`)
    }
    const lastSeq = Math.max(...frames(sub).map((f) => f.seq))
    await sub.waitFor(
      () => frames(sub).filter((f) => f.seq > lastSeq).length >= 10,
      15000,
      '10 more frames after the hostile requests',
    )
    const since = frames(sub).filter((f) => f.seq > lastSeq)
    t.same([...new Set(since.map((f) => f.tableId))], ['prev'], 'frames are still encoded with the previous table')
    t.notMatch(agent.output(), /frame not stored/, 'no frame failed')
    const reported = JSON.parse(sub.on('config').at(-1)!.payload.toString())
    t.equal(reported.version, 1, 'only the good request changed the configuration')

    agent.signal('SIGTERM')
    t.equal(await agent.exited, 0)
    const before = frames(sub).length
    const after = await subscribe(broker.url, [`deepn/${deviceId}/config`])
    t.teardown(() => after.close())
    agent = spawnAgent(cfg)
    await sub.waitFor(() => frames(sub).length >= before + 5, 30000, 'frames after the restart')
    const restarted = frames(sub).slice(before)
    t.same(
      [...new Set(restarted.map((f) => f.tableId))],
      ['prev'],
      'after the restart frames still use the previous table',
    )
    await after.waitFor(
      () => after.messages.some((m) => JSON.parse(m.payload.toString()).version === 1 && !m.retain),
      10000,
      'the config reported by the restarted agent',
    )
    const saved = JSON.parse(
      after.messages
        .filter((m) => !m.retain)
        .at(-1)!
        .payload.toString(),
    )
    t.match(
      saved,
      { version: 1, config: { deviceId, encoder: { table: 'prev' } } },
      'the saved configuration is intact',
    )
    t.same(Object.keys(saved.config.encoder.tables), ['prev'], 'only the good pushed table was saved')
    t.notMatch(agent.output(), /ignoring|dropped/, 'nothing in the saved configuration had to be dropped')
    agent.signal('SIGTERM')
    t.equal(await agent.exited, 0)
  },
)

t.test(
  'a saved configuration holding a prototype name as table id (from an older agent) does not stop the frames',
  async (t) => {
    const broker = await startMosquitto()
    t.teardown(() => broker.stop())
    const dir = agentDir()
    const deviceId = 'saved-hostile'
    const config = agentConfig(broker.url, dir, deviceId)
    // What an agent before the fix persisted after answering ok to {"encoder":{"table":"constructor"}}: in its buffer
    // file (schema 1), which the agent's first start moves to its saved-config file.
    writeSchema1Buffer(join(dir, 'buffer.db'), [], {
      'config.remote': JSON.stringify({
        capture: { width: 80 },
        encoder: { table: 'constructor', tables: { keep: { luma: TABLE, chroma: TABLE } } },
      }),
      'config.version': '3',
    })

    const sub = await subscribe(broker.url, [`deepn/${deviceId}/#`])
    t.teardown(() => sub.close())
    const agent = spawnAgent(writeConfig(dir, config))
    t.teardown(() => agent.signal('SIGKILL'))
    await sub
      .waitFor(() => frames(sub).length >= 5, 30000, 'frames')
      .catch((err: Error) => {
        throw new Error(`${err.message}\n${agent.output().slice(-3000)}`)
      })
    t.notMatch(agent.output(), /frame not stored/, 'no frame failed')
    t.same(
      [...new Set(frames(sub).map((f) => f.tableId))],
      ['natural-deepn'],
      'the refused table id falls back to the local table',
    )
    t.ok(
      frames(sub).every((f) => f.width === 80),
      'the rest of the saved remote layer still applies',
    )
    t.match(agent.output(), /'encoder\.table'/, 'the log names the dropped key')
    const reported = JSON.parse(sub.on('config').at(-1)!.payload.toString())
    t.match(reported, { version: 3, config: { capture: { width: 80 }, encoder: { table: 'natural-deepn' } } })
    t.same(Object.keys(reported.config.encoder.tables), ['keep'], 'the pushed table that is fine is kept')
    agent.signal('SIGTERM')
    t.equal(await agent.exited, 0)
  },
)
