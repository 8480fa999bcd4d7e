/**
 * The dashboard's JSON API, image route, event stream and access rules, over real HTTP against a receiver fed by
 * a real Mosquitto: frames with a gap, a retained status and a telemetry report show up per device; device ids in
 * URLs follow the contract's rule; a token, when set, is required; without one only loopback Host names answer.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import * as path from 'node:path'
import mqtt from 'mqtt'
import t from 'tap'
import { startDashboard, type DashboardDevice } from '../../../scripts/backend/receive/dashboard'
import { parseHttpAddress, parseReceiveArgs } from '../../../scripts/backend/receive/options'
import { startReceiver } from '../../../scripts/backend/receive/receiver'
import { readJpegMetadata } from '../../../shared/codec/metadata'
import { buildStatus, statusMessage } from '../../../shared/contract/status'
import { buildTelemetry } from '../../../shared/contract/telemetry'
import { startMosquitto } from '../../helpers/mosquitto'
import { SimAgent, sleep } from './helpers/sim-agent'
import { telemetry } from './helpers/telemetry'

interface Reply {
  status: number
  type?: string
  body: Buffer
}

/** One raw request: the path is sent exactly as given (no client-side normalisation of `..`). */
function get(url: string, p: string, headers: Record<string, string> = {}): Promise<Reply> {
  const u = new URL(url)
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path: p, headers }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], body: Buffer.concat(chunks) }),
      )
    })
    req.on('error', reject)
    req.end()
  })
}

t.test('--http options: bare port is loopback, a public host needs a token', async (t) => {
  t.same(parseHttpAddress('8080'), { host: '127.0.0.1', port: 8080 })
  t.same(parseHttpAddress('[::1]:9'), { host: '::1', port: 9 })
  t.throws(() => parseHttpAddress('host:99999'), /--http: expected PORT or HOST:PORT/)
  t.throws(() => parseHttpAddress('a/b:80'), /got 'a\/b:80'/)
  t.match(parseReceiveArgs(['--http', 'localhost:8080']), { http: { host: 'localhost', port: 8080 }, live: true })
  t.throws(() => parseReceiveArgs(['--http', '0.0.0.0:8080'], {}), /non-loopback host needs a token/)
  t.match(parseReceiveArgs(['--http', '0.0.0.0:8080'], { DEEPN_HTTP_TOKEN: 'long-enough-token' }), {
    http: { host: '0.0.0.0', port: 8080, token: 'long-enough-token' },
  })
  t.throws(() => parseReceiveArgs(['--http', '80', '--http-token', 'short']), /at least 8 characters/)
  t.throws(() => parseReceiveArgs(['--http-token', 'long-enough-token']), /need --http/)
  t.throws(() => parseReceiveArgs(['--http', '1:80', '--http-token-file', '/nonexistent/t']), /cannot read/)
  t.notOk((parseReceiveArgs([]) as { live?: boolean }).live, 'no status/telemetry subscription without --http')
})

t.test('API: devices, last frame, events, id rule, token and Host rules', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'deepn-dash-api-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const broker = await startMosquitto()
  t.teardown(() => broker.stop())
  const rx = await startReceiver({
    url: broker.url,
    out: path.join(dir, 'out'),
    clientId: 'dash-api',
    live: true,
    summaryIntervalMs: 0,
    log: () => {},
  })
  t.teardown(() => rx.close())
  await rx.subscribed
  const open = await startDashboard({ receiver: rx, host: '127.0.0.1', port: 0, tickMs: 200 })
  t.teardown(() => open.close())
  const locked = await startDashboard({ receiver: rx, host: '127.0.0.1', port: 0, token: 'sesame-sesame' })
  t.teardown(() => locked.close())

  const cam = new SimAgent(broker.url, 'cam-a')
  const pub = mqtt.connect(broker.url)
  t.teardown(async () => {
    await cam.close()
    await pub.endAsync(true)
  })
  for (const seq of [1, 2, 4]) await cam.send(seq)
  await pub.publishAsync('deepn/cam-a/status', buildStatus(statusMessage('degraded', 'cam-a', { reason: 'disk' })), {
    qos: 1,
    retain: true,
  })
  // A status naming another device than its topic's is refused, not shown (published before the telemetry
  // waited for below, on the same connection: handled by then).
  await pub.publishAsync('deepn/cam-b/status', buildStatus(statusMessage('online', 'cam-a')), { qos: 1 })
  await pub.publishAsync('deepn/cam-a/telemetry', buildTelemetry(telemetry('cam-a', 7)), { qos: 1 })

  let dev: DashboardDevice | undefined
  for (let i = 0; i < 100; i++) {
    const r = await get(open.url, '/api/devices')
    t.equal(r.type, 'application/json')
    dev = (JSON.parse(r.body.toString()) as { devices: DashboardDevice[] }).devices.find((d) => d.deviceId === 'cam-a')
    if (dev?.frames === 3 && dev.telemetry && dev.state !== 'unknown') break
    await sleep(50)
  }
  t.match(dev, {
    deviceId: 'cam-a',
    state: 'degraded',
    reason: 'disk',
    frames: 3,
    gaps: [{ from: 3, to: 3 }],
    missing: 1,
    tableId: 'test-table',
    lastFrame: { seq: 4, width: 32, height: 24 },
    telemetry: { backlog: { frames: 7, bytes: 7000 }, framesPerSec: 2.5 },
  })
  t.equal(rx.snapshot().badPayloads, 1, 'the mismatched status counted as bad')
  t.equal(rx.live('cam-b'), undefined, 'and not recorded')
  t.notOk(dev && 'file' in (dev.lastFrame ?? {}), 'the server path of the file is not published')

  const jpg = await get(open.url, '/api/devices/cam-a/last.jpg')
  t.equal(jpg.status, 200)
  t.equal(jpg.type, 'image/jpeg')
  const stored = readFileSync(rx.live('cam-a')!.lastFrame!.file!)
  t.ok(jpg.body.equals(stored), 'the last stored frame (seq 4) is served')
  t.match(rx.live('cam-a')!.lastFrame!.file!, /4\.jpg$/)

  for (const bad of ['/api/devices/../last.jpg', '/api/devices/..%2f..%2fetc/last.jpg', '/api/devices/.x/last.jpg']) {
    const r = await get(open.url, bad)
    t.ok(r.status === 400 || r.status === 404, `${bad} refused (${r.status})`)
    t.notOk(r.type === 'image/jpeg', `${bad} serves no file`)
  }
  // '%2e%2e' is '..' to the URL parser: the path collapses to /api/last.jpg, no route.
  t.match((await get(open.url, '/api/devices/%2e%2e/last.jpg')).body.toString(), /no such page: \/api\/last\.jpg/)
  t.match((await get(open.url, '/api/devices/a%2fb/last.jpg')).body.toString(), /device id 'a%2fb' is not usable/)
  t.equal((await get(open.url, '/api/devices/cam-zz/last.jpg')).status, 404, 'a valid id with no frame: 404')
  t.equal((await get(open.url, '/api/devices', { Host: 'evil.example:80' })).status, 401, 'rebinding Host refused')

  // The event stream's first message carries the devices.
  const first = await new Promise<string>((resolve, reject) => {
    const u = new URL(open.url)
    const req = request({ host: u.hostname, port: u.port, path: '/api/events' }, (res) => {
      t.equal(res.headers['content-type'], 'text/event-stream')
      let buf = ''
      res.on('data', (c: Buffer) => {
        buf += c
        if (buf.includes('\n\n')) {
          req.destroy()
          resolve(buf)
        }
      })
    })
    req.on('error', reject)
    req.end()
  })
  t.match(first, /^event: devices\ndata: \{"devices":\[\{"deviceId":"cam-a"/)

  t.equal((await get(locked.url, '/api/devices')).status, 401, 'no token: 401')
  t.equal((await get(locked.url, '/api/devices?token=wrong')).status, 401, 'wrong token: 401')
  t.equal((await get(locked.url, '/api/devices', { Authorization: 'Bearer wrong' })).status, 401)
  t.equal((await get(locked.url, '/api/devices', { Authorization: 'Bearer sesame-sesame' })).status, 200)
  t.equal((await get(locked.url, '/?token=sesame-sesame')).status, 200)
  t.equal((await get(locked.url, '/api/devices/cam-a/last.jpg?token=sesame-sesame')).type, 'image/jpeg')
})

t.test('shards layout: the last frame is served from its shard', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'deepn-dash-api-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const broker = await startMosquitto()
  t.teardown(() => broker.stop())
  const rx = await startReceiver({
    url: broker.url,
    out: path.join(dir, 'out'),
    layout: 'shards',
    clientId: 'dash-shards',
    live: true,
    summaryIntervalMs: 0,
    log: () => {},
  })
  t.teardown(() => rx.close())
  await rx.subscribed
  const dash = await startDashboard({ receiver: rx, host: '127.0.0.1', port: 0 })
  t.teardown(() => dash.close())
  const cam = new SimAgent(broker.url, 'cam-a')
  t.teardown(() => cam.close())
  for (const seq of [1, 2]) await cam.send(seq)
  for (let i = 0; i < 100 && rx.live('cam-a')?.lastFrame?.seq !== 2; i++) await sleep(50)
  const last = rx.live('cam-a')!.lastFrame!
  t.match(last, { seq: 2, file: /shards\/000001\.tar$/, offset: Number })
  const jpg = await get(dash.url, '/api/devices/cam-a/last.jpg')
  t.equal(jpg.status, 200)
  t.equal(readJpegMetadata(jpg.body)?.seq, 2, "seq 2's JPEG, cut from the shard")
  t.equal(jpg.body.length, last.bytes)
  const api = JSON.parse((await get(dash.url, '/api/devices')).body.toString()) as { devices: DashboardDevice[] }
  t.notOk('offset' in (api.devices[0].lastFrame ?? {}), 'where it lies on the server is not published')
})
