/**
 * `deepn simulate` against a real Mosquitto and the real receiver (in-process): every frame the fleet publishes is
 * stored once, with its seq, metadata the receiver accepts and a file djpeg decodes; status is retained `online`
 * while the fleet runs and `offline` after it stopped; telemetry parses with the contract's parser. Then the built
 * CLI: --help, a usage error, an unreachable broker.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process'
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect, type MqttClient } from 'mqtt'
import t from 'tap'
import { startFleet } from '../../scripts/backend/simulate/fleet'
import { startReceiver } from '../../scripts/backend/receive/receiver'
import { parseFrameUserProperties, readFrameMetadata } from '../../shared/contract/frame-metadata'
import { parseStatus, type StatusMessage } from '../../shared/contract/status'
import { parseTelemetry, type TelemetryMessage } from '../../shared/contract/telemetry'
import { CLI } from '../helpers/agent-process'
import { freePort, startMosquitto } from '../helpers/mosquitto'
import { startPubackGate } from '../helpers/puback-gate'
import { framesOnDisk, indexSeqs, range } from './receive/helpers/disk'
import { waitFor } from './receive/helpers/sim-agent'

const DEVICES = 20
const FPS = 5
const FRAMES = 10 // per device: ~2 s at 5 fps

/** The retained status of every device, read by a fresh subscriber (what a backend starting now would see). */
async function retainedStatus(url: string, count: number): Promise<Map<string, StatusMessage>> {
  const seen = new Map<string, StatusMessage>()
  const client = connect(url, { protocolVersion: 5, reconnectPeriod: 0 })
  try {
    client.on('message', (_topic, payload, packet) => {
      if (packet.retain) {
        const s = parseStatus(payload)
        seen.set(s.deviceId, s)
      }
    })
    await client.subscribeAsync('deepn/+/status', { qos: 1 })
    await waitFor(() => seen.size >= count, 10000, `${count} retained statuses (have ${seen.size})`)
    return seen
  } finally {
    await client.endAsync()
  }
}

t.test('a 20-device fleet: every frame stored once, metadata valid, status and telemetry as an agent', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'deepn-simulate-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const broker = await startMosquitto()
  t.teardown(() => broker.stop())
  const out = join(dir, 'dataset')
  const log: string[] = []
  const receiver = await startReceiver({ url: broker.url, out, summaryIntervalMs: 0, log: (l) => log.push(l) })
  t.teardown(() => receiver.close())
  await receiver.subscribed
  let stored = 0
  receiver.on('frame', (e: { duplicate: boolean }) => {
    if (!e.duplicate) stored++
  })

  const telemetry: TelemetryMessage[] = []
  const watcher: MqttClient = connect(broker.url, { protocolVersion: 5, reconnectPeriod: 0 })
  t.teardown(() => watcher.endAsync())
  watcher.on('message', (_topic, payload) => telemetry.push(parseTelemetry(payload)))
  await watcher.subscribeAsync('deepn/+/telemetry', { qos: 0 })

  const fleet = await startFleet({
    url: broker.url,
    devices: DEVICES,
    fps: FPS,
    width: 160,
    height: 120,
    framesPerDevice: FRAMES,
    telemetryIntervalMs: 1000,
  })
  t.teardown(() => fleet.stop())
  t.same(fleet.deviceIds.slice(0, 2), ['sim-0001', 'sim-0002'], 'device ids sim-0001..')

  const online = await retainedStatus(broker.url, DEVICES)
  t.same(
    [...online.values()].map((s) => s.state),
    Array(DEVICES).fill('online'),
    'status retained online while running',
  )

  const stats = await fleet.done
  t.equal(stats.devices, DEVICES)
  t.equal(stats.published, DEVICES * FRAMES, 'every device published its frames')
  t.equal(stats.acknowledged, stats.published, 'every frame acknowledged')
  t.equal(stats.errors, 0)
  t.ok(stats.achievedFps > 0 && stats.bytesPerSec > 0, 'rates reported')

  await waitFor(() => stored >= DEVICES * FRAMES, 20000, `receiver to store ${DEVICES * FRAMES} frames (has ${stored})`)
  const snap = receiver.snapshot()
  t.equal(snap.badPayloads, 0, 'the receiver refused no payload')
  for (const id of fleet.deviceIds) {
    t.same(
      indexSeqs(out, id).sort((a, b) => a - b),
      range(1, FRAMES),
      `${id}: seqs 1..${FRAMES} indexed once each`,
    )
    const files = framesOnDisk(out, id)
    t.same(
      [...files.values()].filter((f) => f.length !== 1),
      [],
      `${id}: one file per seq`,
    )
  }
  // every stored file decodes with libjpeg and carries its own seq and device
  let decoded = 0
  for (const id of fleet.deviceIds)
    for (const [seq, [file]] of framesOnDisk(out, id)) {
      const ppm = execFileSync('djpeg', ['-ppm', file])
      if (!ppm.subarray(0, 16).toString('latin1').startsWith('P6\n160 120')) t.fail(`${file} decodes to 160x120`)
      const m = readFrameMetadata(readFileSync(file))
      if (m?.seq !== seq || m.deviceId !== id || !m.quantDigest) t.fail(`${file}: metadata ${JSON.stringify(m)}`)
      decoded++
    }
  t.equal(decoded, DEVICES * FRAMES, 'every file decodes with djpeg')

  const offline = await retainedStatus(broker.url, DEVICES)
  t.same(
    [...offline.values()].map((s) => s.state),
    Array(DEVICES).fill('offline'),
    'status retained offline after stop',
  )
  const reporters = new Set(telemetry.map((m) => m.deviceId))
  t.equal(reporters.size, DEVICES, 'every device sent telemetry that parses')
  t.ok(
    telemetry.every((m) => m.counters.published <= FRAMES),
    'telemetry counts no more frames than were sent',
  )
})

t.test('broker restart: devices reconnect, announce online again and go on with their seqs', async (t) => {
  const broker = await startMosquitto() // no persistence: the restart forgets every retained status
  t.teardown(() => broker.stop())
  const fleet = await startFleet({ url: broker.url, devices: 5, fps: 10, width: 64, height: 48, drainTimeoutMs: 1000 })
  t.teardown(() => fleet.stop())
  await waitFor(() => fleet.stats().acknowledged >= 20, 10000, '20 frames acknowledged')
  await broker.restart()
  const after = fleet.stats().acknowledged
  const seqs = new Map<string, number[]>()
  const watcher = connect(broker.url, { protocolVersion: 5, reconnectPeriod: 0 })
  t.teardown(() => watcher.endAsync())
  watcher.on('message', (_topic, _payload, packet) => {
    const m = parseFrameUserProperties(packet.properties?.userProperties ?? {})
    seqs.set(m.deviceId, [...(seqs.get(m.deviceId) ?? []), m.seq])
  })
  await watcher.subscribeAsync('deepn/+/frames', { qos: 1 })
  await waitFor(
    () => seqs.size === 5 && [...seqs.values()].every((s) => s.length >= 3),
    15000,
    'frames from every device after the restart',
  )
  t.ok(fleet.stats().acknowledged > after, 'frames acknowledged again')
  for (const [id, s] of seqs) {
    t.ok(s[0] > 1, `${id}: seqs go on after the restart (first seen ${s[0]})`)
    t.same(
      s.filter((v, k) => k > 0 && v <= s[k - 1]),
      [],
      `${id}: seqs increase`,
    )
  }
  const online = await retainedStatus(broker.url, 5)
  t.same(
    [...online.values()].map((m) => m.state),
    Array(5).fill('online'),
    'online announced again on reconnect',
  )
  await fleet.stop()
})

t.test('back-pressure: a device whose frame is not acknowledged skips its turn instead of queueing', async (t) => {
  // Real Mosquitto behind a proxy that holds back the frames' PUBACKs until the test releases them.
  const broker = await startMosquitto()
  t.teardown(() => broker.stop())
  const gate = await startPubackGate(broker.port, (topic) => topic.endsWith('/frames'))
  t.teardown(() => gate.close())
  const fleet = await startFleet({
    url: `mqtt://127.0.0.1:${gate.port}`,
    devices: 2,
    fps: 20,
    width: 32,
    height: 32,
    drainTimeoutMs: 2000,
  })
  t.teardown(() => fleet.stop())
  await waitFor(() => fleet.stats().skipped >= 10, 10000, 'turns skipped while PUBACKs are held')
  let s = fleet.stats()
  t.equal(s.published, 2, 'one frame in flight per device, nothing queued behind it')
  t.equal(s.acknowledged, 0)
  t.equal(gate.held.length, 2, 'the broker acknowledged both; the acks are held')
  for (const h of gate.held.splice(0)) h.release()
  await waitFor(() => fleet.stats().published >= 4, 10000, 'frames flowing again after the acks')
  for (const h of gate.held.splice(0)) h.release()
  s = fleet.stats()
  t.ok(s.acknowledged >= 2, `acknowledged after release (${s.acknowledged})`)
  // stop() waits for the frames in flight: release their acks as they come
  const release = setInterval(() => {
    for (const h of gate.held.splice(0)) h.release()
  }, 20)
  t.teardown(() => clearInterval(release))
  s = await fleet.stop()
  t.equal(s.acknowledged, s.published, 'every frame sent was acknowledged by the end')
})

t.test(
  'a broker that accepts the connection but never answers: startFleet rejects after the connect timeout',
  async (t) => {
    const { createServer } = await import('node:net')
    const sockets = new Set<import('node:net').Socket>()
    const silent = createServer((sock) => {
      sockets.add(sock)
      sock.on('error', () => {})
    })
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r))
    t.teardown(() => {
      for (const s of sockets) s.destroy()
      return new Promise<void>((r) => silent.close(() => r()))
    })
    const port = (silent.address() as { port: number }).port
    const started = Date.now()
    await t.rejects(
      startFleet({ url: `mqtt://127.0.0.1:${port}`, devices: 3, fps: 1, width: 16, height: 16, connectTimeoutMs: 500 }),
      /^cannot connect to mqtt:\/\/127\.0\.0\.1:\d+: no CONNACK within 500 ms/,
    )
    t.ok(Date.now() - started < 5000, `gave up in ${Date.now() - started} ms, no hang`)
  },
)

t.test('CLI (built dist): --help, a usage error, an unreachable broker', async (t) => {
  const run = (args: string[]) => spawnSync(process.execPath, [CLI, 'simulate', ...args], { encoding: 'utf8' })
  const help = run(['--help'])
  t.equal(help.status, 0)
  t.match(help.stdout, /usage: deepn simulate --devices N --fps F/)
  const bad = run(['--fps', '0'])
  t.equal(bad.status, 2, 'usage error exits 2')
  t.equal(
    bad.stderr.trim(),
    "deepn simulate: --fps must be a number <= 1000 and above 0, got '0' (see 'deepn simulate --help')",
  )
  const both = run(['--seconds', '1', '--frames', '2'])
  t.equal(both.status, 2)
  t.match(both.stderr, /give --seconds or --frames, not both/)
  const port = await freePort() // nothing listens here
  const down = run(['--url', `mqtt://127.0.0.1:${port}`, '--devices', '3', '--seconds', '1', '--size', '64x48'])
  t.equal(down.status, 1, 'unreachable broker exits 1')
  t.match(down.stderr.trim(), /^deepn simulate: broker mqtt:\/\/127\.0\.0\.1:\d+ refused the connection[^\n]*$/)
  const scheme = run(['--url', 'http://x'])
  t.equal(scheme.status, 2, 'a URL that names no broker is a usage error')
  t.match(scheme.stderr, /^deepn simulate: --url: unsupported URL scheme 'http:'/)
})

t.test('CLI (built dist): SIGINT stops the fleet cleanly, says offline and prints the summary', async (t) => {
  const broker = await startMosquitto()
  t.teardown(() => broker.stop())
  const child = spawn(
    process.execPath,
    [CLI, 'simulate', '--url', broker.url, '--devices', '4', '--fps', '10', '--size', '64x48', '--progress', '0'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  )
  t.teardown(() => child.kill('SIGKILL'))
  let stdout = '',
    stderr = ''
  child.stdout.on('data', (b) => (stdout += b))
  child.stderr.on('data', (b) => (stderr += b))
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)))
  await waitFor(() => /4 devices connected/.test(stderr), 15000, `the fleet to connect (stderr: ${stderr})`)
  const online = await retainedStatus(broker.url, 4)
  t.same([...online.keys()].sort(), ['sim-0001', 'sim-0002', 'sim-0003', 'sim-0004'], 'every device online')
  child.kill('SIGINT')
  t.equal(await exited, 0, 'exit 0 after SIGINT')
  t.match(stdout.trim(), /^4 devices, [\d.]+ s: \d+ frames published, \d+ acknowledged, .* frames\/s of 40 asked/)
  t.notOk(stdout.trim().includes('\n'), 'one summary line')
  const offline = await retainedStatus(broker.url, 4)
  t.same(
    [...offline.values()].map((m) => m.state),
    Array(4).fill('offline'),
    'every device says offline',
  )
})

t.test(
  'CLI (built dist): a broker with a password file: the fleet logs in; a wrong password is one line, exit 1',
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'deepn-simulate-auth-'))
    t.teardown(() => rmSync(dir, { recursive: true, force: true }))
    execFileSync('mosquitto_passwd', ['-c', '-b', join(dir, 'passwd'), 'fleet', 'right-password'])
    chmodSync(dir, 0o755) // Mosquitto started as root reads it as the `mosquitto` user
    chmodSync(join(dir, 'passwd'), 0o644)
    const broker = await startMosquitto({ extraConfig: [`password_file ${dir}/passwd`, 'allow_anonymous false'] })
    t.teardown(() => broker.stop())
    const pw = join(dir, 'pw')
    writeFileSync(pw, 'right-password\n')
    const base = [
      CLI,
      'simulate',
      '--url',
      broker.url,
      '--devices',
      '3',
      '--fps',
      '10',
      '--frames',
      '3',
      '--size',
      '32x32',
    ]
    const ok = spawnSync(process.execPath, [...base, '--username', 'fleet', '--password-file', pw], {
      encoding: 'utf8',
    })
    t.equal(ok.status, 0, ok.stderr)
    t.match(ok.stdout, /^3 devices, .*: 9 frames published, 9 acknowledged/)
    const bad = spawnSync(process.execPath, [...base, '--username', 'fleet'], {
      encoding: 'utf8',
      env: { ...process.env, DEEPN_MQTT_PASSWORD: 'wrong' },
    })
    t.equal(bad.status, 1)
    t.match(bad.stderr, /^deepn simulate: cannot connect to mqtt:\/\/127\.0\.0\.1:\d+: .*(password|authori)/i)
    t.equal(bad.stderr.trim().split('\n').length, 1, `one line: ${bad.stderr}`)
  },
)
