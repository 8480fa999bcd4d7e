/**
 * pushTable against a real Mosquitto: the real agent (in-process, synthetic camera, real SQLite buffer) applies a
 * pushed table, reports it, and names it in the next frames; a table pushed with a trained Huffman set is applied
 * and the next frames carry that set in their DHT instead of Annex K's; a device that rejects, a device that is not
 * there, a report that lacks the set, and a malformed table or set each give a clear PushTableError. The backend
 * loop as a script writes it: optimizeTable() on a small calibration slice, then pushTable() to a running agent.
 */
import t, { type Test } from 'tap'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import mqtt from 'mqtt'
import { readJpegMetadata } from '../../shared/codec/metadata'
import { symbolFrequencies } from '../../shared/codec/encoder'
import { STD_AC_CHROMA, STD_AC_LUMA, STD_DC_CHROMA, STD_DC_LUMA, type HuffmanSpec } from '../../shared/codec/huffman'
import { emptySymbolCounts, trainHuffmanTables } from '../../shared/codec/huffman-tables'
import { syntheticFrame } from '../../agent/capture/synthetic'
import { createAgent } from '../../agent/commands/run'
import { loadLocalConfig } from '../../agent/config-file'
import { memoryLogger } from '../helpers/log'
import { PushTableError, pushTable, tablePushMessage } from '../../scripts/backend/push-table/push-table'
import { optimizeTable } from '../../scripts/tables/optimize'
import { startMosquitto } from '../helpers/mosquitto'
import { subscribe, type Received } from '../helpers/subscriber'
import { dhtOf, readDht } from '../helpers/jpeg-dht'

const table = {
  id: 'fmnist-optimized-test',
  luma: Array.from({ length: 64 }, (_, i) => 3 + ((i * 7) % 50)),
  chroma: Array.from({ length: 64 }, (_, i) => 9 + (i % 13)),
}

/** The table again, with a Huffman set trained on frames of the agent's synthetic camera at its size. */
function withTrainedSet() {
  const quant = { luma: table.luma.map((v) => v + 2), chroma: table.chroma }
  const c = emptySymbolCounts()
  for (let n = 0; n < 6; n++) symbolFrequencies(syntheticFrame(32, 32, n * 5), { tables: quant, subsampling: '420' }, c)
  return { id: 'natural-trained-test', ...quant, huffman: trainHuffmanTables(c, true) }
}
const json = (s: HuffmanSpec) => ({ counts: Array.from(s.bits.subarray(1)), symbols: Array.from(s.huffval) })
const ANNEX_K = { dc0: json(STD_DC_LUMA), ac0: json(STD_AC_LUMA), dc1: json(STD_DC_CHROMA), ac1: json(STD_AC_CHROMA) }
const tableIdOf = (m: Received) => (readJpegMetadata(new Uint8Array(m.payload)) as { tableId?: string }).tableId

/** A real Mosquitto and a real agent (synthetic 32x32 camera, SQLite buffer) publishing frames; torn down with t. */
async function startDevice(t: Test) {
  const broker = await startMosquitto()
  t.teardown(() => broker.stop())
  const deviceId = `cam-${Math.random().toString(16).slice(2, 8)}`
  const dir = mkdtempSync(join(tmpdir(), 'deepn-push-'))
  const local = loadLocalConfig({
    env: {
      DEEPN_MQTT_URL: broker.url,
      DEEPN_DEVICE_ID: deviceId,
      DEEPN__BUFFER__PATH: join(dir, 'buffer.db'),
      DEEPN_LOG_LEVEL: 'warn',
      DEEPN__CAPTURE__WIDTH: '32',
      DEEPN__CAPTURE__HEIGHT: '32',
      DEEPN__CAPTURE__INTERVAL_MS: '20',
    },
  })
  const agent = createAgent(local, memoryLogger('warn'))
  const sub = await subscribe(broker.url, [`deepn/${deviceId}/frames`])
  t.teardown(() => sub.close())
  await agent.start()
  t.teardown(() => agent.stop())
  await sub.waitFor(() => sub.messages.length >= 2, 30000, 'first frames')
  return { broker, deviceId, sub }
}

t.test('the real agent applies, persists and reports a pushed table, and frames name it', async (t) => {
  const { broker, deviceId, sub } = await startDevice(t)

  const r = await pushTable({ url: broker.url, deviceId, table, requestId: 'push-1', timeoutMs: 15000 })
  t.equal(r.requestId, 'push-1')
  t.equal(r.tableId, table.id)
  t.equal(r.reportedTable, table.id, 'the retained report shows the table in force')
  t.ok(r.applied.includes('encoder.table'), `applied keys name encoder.table: ${r.applied.join(', ')}`)
  t.ok(r.reportedVersion >= 1, 'reported config version moved past the initial 0')

  const after = sub.messages.length
  await sub.waitFor(() => sub.messages.length >= after + 3, 30000, 'frames after the push')
  const last = sub.messages[sub.messages.length - 1]
  t.equal(tableIdOf(last), table.id, 'frames encoded after the push name the table')
  t.same(readDht(new Uint8Array(last.payload)), ANNEX_K, 'a table without a Huffman set: Annex K Huffman tables')

  // the same device, a table carrying a trained Huffman set
  const trained = withTrainedSet()
  const r2 = await pushTable({ url: broker.url, deviceId, table: trained, requestId: 'push-2', timeoutMs: 15000 })
  t.equal(r2.reportedTable, trained.id, 'the report shows the table with its set (pushTable compares the set too)')
  const mark = sub.messages.length
  await sub.waitFor(
    () => sub.messages.slice(mark).filter((m) => tableIdOf(m) === trained.id).length >= 2,
    30000,
    'frames with the trained table',
  )
  for (const m of sub.messages.slice(mark).filter((m) => tableIdOf(m) === trained.id)) {
    const dht = readDht(new Uint8Array(m.payload))
    t.same(dht, dhtOf(trained.huffman), "the frame's DHT segments hold the pushed set")
    t.notSame(dht, ANNEX_K, "and differ from Annex K's")
  }
})

t.test('the backend loop as a script would write it: optimizeTable() for the model, then pushTable()', async (t) => {
  const { table: optimized, summary } = await optimizeTable({
    calibSize: 100,
    seed: 3,
    maxEvals: 24,
    start: 'annexk',
    targetDrop: 0.02,
    id: 'backend-loop',
  })
  t.match(summary, /calibration accuracy .* with its trained Huffman set/)
  t.ok(optimized.huffman, 'the optimised table carries its Huffman set')
  t.match((optimized.source as { model: { file: string } }).model.file, /fmnist-cnn\.onnx$/, 'source names the model')
  const { broker, deviceId, sub } = await startDevice(t)
  const r = await pushTable({ url: broker.url, deviceId, table: optimized, timeoutMs: 15000 })
  t.equal(r.reportedTable, 'backend-loop', 'the device reports it in force, set included')
  const mark = sub.messages.length
  await sub.waitFor(
    () => sub.messages.slice(mark).some((m) => tableIdOf(m) === 'backend-loop'),
    30000,
    'frames with the optimised table',
  )
  const frame = sub.messages.slice(mark).find((m) => tableIdOf(m) === 'backend-loop')!
  const dht = readDht(new Uint8Array(frame.payload))
  t.same(
    dht,
    dhtOf(optimized.huffman!),
    "its set in the luma slots, and (gray-trained) in this colour camera's chroma slots too",
  )
})

t.test('a device rejection surfaces its reason; silence times out; a bad table never leaves', async (t) => {
  const broker = await startMosquitto()
  t.teardown(() => broker.stop())
  // a fake device: rejects every request with a reason, the way the agent answers on config/result
  const device = await mqtt.connectAsync(broker.url)
  t.teardown(() => device.endAsync())
  await device.subscribeAsync('deepn/fake-1/config/set', { qos: 1 })
  const seen: string[] = []
  device.on('message', (_t, p) => {
    const req = JSON.parse(p.toString()) as { id: string }
    seen.push(p.toString())
    device.publish('deepn/fake-1/config/result', JSON.stringify({ id: 'someone-else', ok: true }))
    device.publish(
      'deepn/fake-1/config/result',
      JSON.stringify({ id: req.id, ok: false, error: "'encoder.tables' holds 17 tables; at most 16" }),
      { qos: 1 },
    )
  })
  const err = await pushTable({ url: broker.url, deviceId: 'fake-1', table, timeoutMs: 10000 }).catch((e: unknown) => e)
  t.type(err, PushTableError)
  t.equal((err as PushTableError).reason, 'rejected')
  t.match((err as Error).message, /fake-1 rejected table fmnist-optimized-test: 'encoder.tables' holds 17 tables/)
  t.equal(seen.length, 1, 'one request sent')
  t.same(
    JSON.parse(seen[0]).config,
    { encoder: { tables: { [table.id]: { luma: table.luma, chroma: table.chroma } }, table: table.id } },
    'body per the contract',
  )

  const t0 = Date.now()
  const silent = await pushTable({ url: broker.url, deviceId: 'nobody', table, timeoutMs: 800 }).catch(
    (e: unknown) => e,
  )
  t.equal((silent as PushTableError).reason, 'timeout')
  t.match((silent as Error).message, /nobody did not confirm within 800 ms: no config\/result/)
  t.ok(Date.now() - t0 < 5000, 'gives up near the timeout')

  const bad = { ...table, luma: table.luma.map((v, i) => (i === 5 ? 300 : v)) }
  t.throws(() => tablePushMessage(bad, 'x'), /luma\[5\]: 300 is outside 1\.\.255/)
  const e3 = await pushTable({ url: broker.url, deviceId: 'fake-1', table: bad }).catch((e: unknown) => e)
  t.equal((e3 as PushTableError).reason, 'invalid')
  t.equal(seen.length, 1, 'the bad table was never published')
  t.throws(() => tablePushMessage({ ...table, id: 'no spaces' }, 'x'), /table id must be/)

  // a Huffman set travels in the body; a broken one never leaves
  const trained = withTrainedSet()
  t.same(
    JSON.parse(tablePushMessage(trained, 'x')).config.encoder.tables[trained.id],
    { luma: trained.luma, chroma: trained.chroma, huffman: trained.huffman },
    'the set is sent with the table',
  )
  const brokenSet = {
    ...trained,
    huffman: { ...trained.huffman, lumaAc: { counts: trained.huffman.lumaAc.counts, symbols: [] } },
  }
  const e4 = await pushTable({ url: broker.url, deviceId: 'fake-1', table: brokenSet }).catch((e: unknown) => e)
  t.equal((e4 as PushTableError).reason, 'invalid')
  t.match((e4 as Error).message, /table natural-trained-test huffman\.lumaAc: counts add up to \d+ codes but 0 symbols/)
  t.equal(seen.length, 1, 'the bad set was never published')
})

t.test('the confirmation compares the Huffman set: a report without it does not confirm', async (t) => {
  const broker = await startMosquitto()
  t.teardown(() => broker.stop())
  const trained = withTrainedSet()
  // a fake device that accepts but reports the table without its set (e.g. an agent that predates Huffman sets)
  const device = await mqtt.connectAsync(broker.url)
  t.teardown(() => device.endAsync())
  await device.subscribeAsync('deepn/old-1/config/set', { qos: 1 })
  device.on('message', (_t, p) => {
    const req = JSON.parse(p.toString()) as { id: string }
    const tables = { [trained.id]: { luma: trained.luma, chroma: trained.chroma } }
    device.publish(
      'deepn/old-1/config/result',
      JSON.stringify({ id: req.id, ok: true, applied: ['encoder.tables', 'encoder.table'] }),
      { qos: 1 },
    )
    device.publish(
      'deepn/old-1/config',
      JSON.stringify({ version: 1, config: { encoder: { table: trained.id, tables } } }),
      { qos: 1, retain: true },
    )
  })
  const err = await pushTable({ url: broker.url, deviceId: 'old-1', table: trained, timeoutMs: 1000 }).catch(
    (e: unknown) => e,
  )
  t.equal((err as PushTableError).reason, 'timeout')
  t.match((err as Error).message, /the reported config never showed table natural-trained-test/)
})
