/**
 * Acceptance against a real Mosquitto: two simulated devices, a broker restart and a receiver SIGKILL
 * mid-stream, duplicates, a gap that fills, garbage on deepn/x/frames → every seq of both devices on disk exactly
 * once, each file decoding.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import * as path from 'node:path'
import * as jpeg from 'jpeg-js'
import t from 'tap'
import { readJpegMetadata } from '../../../shared/codec/metadata'
import { persistentMosquitto } from './helpers/broker'
import { framesOnDisk, indexSeqs, range } from './helpers/disk'
import { makeFrame } from './helpers/frames'
import { ReceiverProcess } from './helpers/receiver-process'
import { SimAgent, sleep, waitFor } from './helpers/sim-agent'

const N = 80

t.test('two devices, broker restart and receiver kill mid-stream: every seq on disk exactly once', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'deepn-receive-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const out = path.join(dir, 'dataset')
  const broker = await persistentMosquitto(dir)
  t.teardown(() => broker.stop())
  const args = ['--url', broker.url, '--out', out, '--client-id', 'receiver-under-test', '--summary', '0']
  let rx = new ReceiverProcess(args)
  t.teardown(() => rx.kill('SIGKILL'))
  await rx.waitForOutput('subscribed to deepn/+/frames')

  const a = new SimAgent(broker.url, 'cam-a')
  const b = new SimAgent(broker.url, 'cam-b')
  t.teardown(() => Promise.all([a.close(), b.close()]))
  const gap = range(30, 35)
  let progress = 0
  const streamA = (async () => {
    for (let seq = 1; seq <= N; seq++) {
      await a.send(seq)
      if (seq === 10) {
        await a.send(5)
        await a.send(6)
      } // duplicates, as after a lost PUBACK
      progress = seq
      await sleep(15)
    }
  })()
  const streamB = (async () => {
    for (let seq = 1; seq <= N; seq++) {
      if (!gap.includes(seq)) await b.send(seq)
      await sleep(15)
    }
    for (const seq of gap) await b.send(seq) // the gap fills late: not a loss
  })()

  await waitFor(() => progress >= 20, 30000, 'device A to reach seq 20')
  await broker.stop()
  await sleep(700)
  await broker.start()

  await waitFor(() => progress >= 45, 30000, 'device A to reach seq 45')
  const killed = await rx.kill('SIGKILL')
  t.equal(killed.signal, 'SIGKILL', 'receiver killed mid-stream')
  await sleep(500) // frames published now queue at the broker for the receiver's session
  rx = new ReceiverProcess(args)
  await rx.waitForOutput(/session resumed/)

  const garbage = new SimAgent(broker.url, 'x')
  t.teardown(() => garbage.close())
  const good = makeFrame({ deviceId: 'x', seq: 1 })
  await garbage.sendRaw('deepn/x/frames', Buffer.from('definitely not a jpeg'))
  await garbage.sendRaw('deepn/x/frames', good.subarray(0, good.length - 50))
  await garbage.sendRaw('deepn/x/frames', makeFrame({ deviceId: 'someone-else', seq: 2 }))
  await Promise.all([streamA, streamB])

  const complete = (id: string) => framesOnDisk(out, id).size === N
  await waitFor(() => complete('cam-a') && complete('cam-b'), 60000, 'all frames of both devices on disk').catch(
    (err: Error) => {
      const have = (id: string) => [...framesOnDisk(out, id).keys()].sort((p, q) => p - q).join(',')
      throw new Error(
        `${err.message}\ncam-a: ${have('cam-a')}\ncam-b: ${have('cam-b')}\nreceiver:\n${rx.stderr}\nbroker:\n${broker.output().slice(-3000)}`,
      )
    },
  )
  // The garbage may reach the broker after the last good frame (its client connects while the streams run), so
  // wait for the receiver to have refused it before stopping: the summary must then count exactly those three.
  await waitFor(
    () => (rx.stderr.match(/bad payload on deepn\/x\/frames/g) ?? []).length >= 3,
    30000,
    'the three garbage payloads refused',
  )
  const stopped = await rx.kill('SIGTERM')
  t.equal(stopped.code, 0, 'clean exit on SIGTERM')
  t.match(rx.stderr, /bad payloads: 3 /, 'garbage counted')
  t.match(rx.stderr, /bad payload on deepn\/x\/frames \(device x\): not a JPEG/, 'logged with topic and device')
  t.match(rx.stderr, /does not match the topic/)

  for (const id of ['cam-a', 'cam-b']) {
    const files = framesOnDisk(out, id)
    t.same(
      [...files.keys()].sort((p, q) => p - q),
      range(1, N),
      `${id}: every seq on disk`,
    )
    t.same(
      [...files.values()].filter((f) => f.length !== 1),
      [],
      `${id}: each seq exactly once`,
    )
    for (const [seq, [file]] of files) {
      const bytes = readFileSync(file)
      const img = jpeg.decode(bytes)
      if (img.width !== 32 || img.height !== 24) t.fail(`${file} decodes to ${img.width}x${img.height}`)
      if (readJpegMetadata(bytes)?.seq !== seq) t.fail(`${file} holds seq ${String(readJpegMetadata(bytes)?.seq)}`)
    }
    t.same(
      indexSeqs(out, id).sort((p, q) => p - q),
      range(1, N),
      `${id}: index lists each seq once`,
    )
  }
  t.same(
    readdirSync(out).sort(),
    ['.deepn-journal', 'cam-a', 'cam-b'],
    'nothing written for garbage (the journal aside)',
  )
  t.match(rx.stderr, /cam-b: .*seq 1\.\.80, no gaps/, 'gap that filled is not reported as a loss')
})
