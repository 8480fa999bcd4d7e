/**
 * Two real agent processes (`node dist/agent/cli.js run`, needs a build: `npm test` builds first) and one
 * receiver in end-to-end ack mode. The receiver is SIGKILLed mid-stream and, while it is down, the broker
 * (no persistence) restarts and forgets everything queued for it: only the agents' buffers, released by the
 * receiver's acks rather than the broker's PUBACK, can make every frame arrive.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import * as path from 'node:path'
import * as jpeg from 'jpeg-js'
import t from 'tap'
import { readJpegMetadata } from '../../../shared/codec/metadata'
import { agentDir, spawnAgent, writeConfig } from '../../helpers/agent-process'
import { startMosquitto } from '../../helpers/mosquitto'
import { framesOnDisk, indexSeqs, range } from './helpers/disk'
import { ReceiverProcess } from './helpers/receiver-process'
import { sleep, waitFor } from './helpers/sim-agent'
import { backlog } from '../../helpers/buffer-file'

const N = 60
const DEVICES = ['agent-a', 'agent-b']

/** Frames still held in an agent's buffer (those not yet acknowledged); -1 before it exists. */
const buffered = (file: string): number => (existsSync(file) ? backlog(file) : -1)

t.test('two agents, e2e acks, receiver killed and broker restarted: every frame on disk exactly once', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'deepn-receive-agents-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const out = path.join(dir, 'dataset')
  const broker = await startMosquitto()
  t.teardown(() => broker.stop())
  const rxArgs = [
    '--url',
    broker.url,
    '--out',
    out,
    '--ack',
    '--ack-interval',
    '100',
    '--client-id',
    'rx-agents',
    '--summary',
    '0',
  ]
  let rx = new ReceiverProcess(rxArgs)
  t.teardown(() => rx.kill('SIGKILL'))
  await rx.waitForOutput('subscribed to deepn/+/frames')

  const agents = DEVICES.map((deviceId) => {
    const adir = agentDir()
    t.teardown(() => rmSync(adir, { recursive: true, force: true }))
    const db = path.join(adir, 'buffer.db')
    const proc = spawnAgent(
      writeConfig(adir, {
        deviceId,
        delivery: 'e2e-ack',
        ackTimeoutMs: 1500,
        mqtt: { url: broker.url, reconnectMinMs: 100, reconnectMaxMs: 500 },
        capture: { width: 64, height: 48, intervalMs: 40, maxFrames: N },
        buffer: { path: db },
        log: { level: 'info' },
      }),
    )
    t.teardown(() => proc.signal('SIGKILL'))
    return { deviceId, db, proc }
  })

  await waitFor(() => DEVICES.every((d) => framesOnDisk(out, d).size >= 15), 60000, `15 frames per agent\n${rx.stderr}`)
  await rx.kill('SIGKILL')
  await sleep(800) // agents keep publishing; the broker queues for the dead receiver's session…
  await broker.restart() // …and forgets it all (no persistence)
  await sleep(500)
  rx = new ReceiverProcess(rxArgs)
  await rx.waitForOutput('subscribed to deepn/+/frames')

  const done = () => DEVICES.every((d) => framesOnDisk(out, d).size >= N)
  await waitFor(done, 90000, 'every frame of both agents').catch((err: Error) => {
    const have = DEVICES.map((d) => `${d}: ${[...framesOnDisk(out, d).keys()].sort((p, q) => p - q).join(',')}`).join(
      '\n',
    )
    throw new Error(`${err.message}\n${have}\nreceiver:\n${rx.stderr}\nagent:\n${agents[0].proc.output().slice(-3000)}`)
  })
  await waitFor(() => agents.every((a) => buffered(a.db) === 0), 30000, 'agents to drop acknowledged frames')
  t.pass("both agents emptied their buffers on the receiver's acks")

  for (const d of DEVICES) {
    const files = framesOnDisk(out, d)
    t.same(
      [...files.keys()].sort((p, q) => p - q),
      range(1, N),
      `${d}: seqs 1..${N} on disk`,
    )
    t.same(
      [...files.values()].filter((f) => f.length !== 1),
      [],
      `${d}: each exactly once`,
    )
    t.same(
      indexSeqs(out, d).sort((p, q) => p - q),
      range(1, N),
      `${d}: index lists each once`,
    )
    for (const [seq, [file]] of files) {
      const bytes = readFileSync(file)
      const img = jpeg.decode(bytes)
      if (img.width !== 64 || img.height !== 48) t.fail(`${file} decodes to ${img.width}x${img.height}`)
      const meta = readJpegMetadata(bytes)
      if (meta?.seq !== seq || meta?.deviceId !== d) t.fail(`${file} metadata ${JSON.stringify(meta)}`)
    }
  }
  for (const a of agents) {
    a.proc.signal('SIGTERM')
    t.equal(await a.proc.exited, 0, `${a.deviceId} exits cleanly`)
  }
  const stopped = await rx.kill('SIGTERM')
  t.equal(stopped.code, 0)
  t.match(rx.stderr, /bad payloads: 0;/)
})
