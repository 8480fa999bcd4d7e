/**
 * Receiver throughput benchmark (offline; `npm run bench:receive`). One local Mosquitto; per round, FRAMES
 * 640x480 JPEG frames (QoS 1) from two publishers are consumed by (a) `mosquitto_sub` writing to /dev/null — the
 * broker + transport ceiling, same run, same machine — and (b) the receiver storing each frame durably (temp,
 * fsync, rename, directory fsync) and, in (c), also classifying it with the shipped Fashion-MNIST model.
 * Prints medians over rounds and the ratios to (a).
 */
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, connect } from 'node:net'
import { tmpdir } from 'node:os'
import * as path from 'node:path'
import * as jpeg from 'jpeg-js'
import mqtt from 'mqtt'
import { metadataSegment } from '../../shared/codec/metadata'
import { startReceiver } from '../backend/receive/receiver'
import { packagePath } from '../../agent/package-root'

const FRAMES = Number(process.env.BENCH_FRAMES ?? 200)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const MODEL = packagePath('config', 'models', 'fmnist-cnn.onnx')

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'deepn-bench-receive-'))
  const port = await freePort()
  writeFileSync(
    path.join(dir, 'm.conf'),
    `listener ${port} 127.0.0.1\nallow_anonymous true\nmax_queued_messages 100000\n`,
  )
  const broker = spawn('/usr/sbin/mosquitto', ['-c', path.join(dir, 'm.conf')], { stdio: 'ignore' })
  try {
    await waitForPort(port)
    const url = `mqtt://127.0.0.1:${port}`
    const body = sampleJpeg(640, 480)
    console.log(
      `receiver benchmark: ${FRAMES} frames of ${(body.length / 1024).toFixed(1)} KiB (640x480), ${ROUNDS} rounds, tmp dir ${dir}`,
    )
    const results: Record<string, number[]> = {
      'mosquitto_sub > /dev/null': [],
      'deepn receive': [],
      'deepn receive --model': [],
    }
    for (let r = 0; r < ROUNDS; r++) {
      results['mosquitto_sub > /dev/null'].push(await roundMosquittoSub(url, port, body, r))
      results['deepn receive'].push(await roundReceiver(url, body, path.join(dir, `ds-${r}`), r, false))
      results['deepn receive --model'].push(await roundReceiver(url, body, path.join(dir, `dsm-${r}`), r, true))
    }
    const base = median(results['mosquitto_sub > /dev/null'])
    for (const [name, xs] of Object.entries(results)) {
      const m = median(xs)
      console.log(
        `${name.padEnd(28)} median ${m.toFixed(1)} frames/s  (${xs.map((x) => x.toFixed(1)).join(', ')})  ratio ${(m / base).toFixed(2)}`,
      )
    }
  } finally {
    broker.kill('SIGTERM')
    rmSync(dir, { recursive: true, force: true })
  }
}

async function roundMosquittoSub(url: string, port: number, body: Buffer, round: number): Promise<number> {
  const topicFilter = `bench${round}/+/frames`
  const sub = spawn(
    'mosquitto_sub',
    ['-p', String(port), '-h', '127.0.0.1', '-q', '1', '-t', topicFilter, '-C', String(FRAMES)],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  )
  await sleep(300) // subscribed
  const t0 = performance.now()
  const exited = new Promise<void>((resolve) => sub.once('exit', () => resolve()))
  await publishAll(url, `bench${round}`, body)
  await exited
  return FRAMES / ((performance.now() - t0) / 1000)
}

async function roundReceiver(
  url: string,
  body: Buffer,
  out: string,
  round: number,
  withModel: boolean,
): Promise<number> {
  const prefix = `bench${round}${withModel ? 'm' : ''}`
  let stored = 0
  const rx = await startReceiver({
    url,
    prefix,
    out,
    clientId: `bench-${prefix}`,
    summaryIntervalMs: 0,
    log: () => {},
    model: withModel ? MODEL : undefined,
  })
  await rx.subscribed
  const done = new Promise<void>((resolve) =>
    rx.on(withModel ? 'result' : 'frame', () => {
      if (++stored === FRAMES) resolve()
    }),
  )
  const t0 = performance.now()
  await publishAll(url, prefix, body)
  await done
  const fps = FRAMES / ((performance.now() - t0) / 1000)
  await rx.close()
  return fps
}

/** Two publishers, half the frames each, QoS 1, as fast as the broker takes them. */
async function publishAll(url: string, prefix: string, body: Buffer): Promise<void> {
  await Promise.all(
    ['cam-a', 'cam-b'].map(async (deviceId) => {
      const c = await mqtt.connectAsync(url)
      const sends: Promise<unknown>[] = []
      for (let seq = 1; seq <= FRAMES / 2; seq++) {
        const meta = { seq, capturedAt: new Date().toISOString(), tableId: 'bench', deviceId, width: 640, height: 480 }
        sends.push(
          c.publishAsync(
            `${prefix}/${deviceId}/frames`,
            Buffer.concat([body.subarray(0, 2), metadataSegment(meta), body.subarray(2)]),
            { qos: 1 },
          ),
        )
      }
      await Promise.all(sends)
      await c.endAsync()
    }),
  )
}

function sampleJpeg(width: number, height: number): Buffer {
  const data = Buffer.alloc(width * height * 4)
  for (let i = 0, p = 0; p < width * height; p++, i += 4) {
    const x = p % width
    const y = (p / width) | 0
    data[i] = (x * 255) / width
    data[i + 1] = (y * 255) / height
    data[i + 2] = (x ^ y) & 0xff
    data[i + 3] = 255
  }
  return jpeg.encode({ width, height, data }, 75).data
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms))
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const p = (srv.address() as { port: number }).port
      srv.close(() => resolve(p))
    })
  })
}

async function waitForPort(port: number): Promise<void> {
  for (let k = 0; k < 200; k++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1')
      s.once('connect', () => {
        s.destroy()
        resolve(true)
      })
      s.once('error', () => resolve(false))
    })
    if (ok) return
    await sleep(50)
  }
  throw new Error(`mosquitto did not listen on ${port}`)
}

if (spawnSync('mosquitto_sub', ['--help']).error) {
  console.error('bench: mosquitto_sub not found (apt-get install mosquitto-clients)')
  process.exitCode = 2
} else {
  main().catch((err: unknown) => {
    console.error(`bench: ${err instanceof Error ? err.message : String(err)}`)
    process.exitCode = 1
  })
}
