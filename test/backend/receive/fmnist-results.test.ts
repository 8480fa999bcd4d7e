/**
 * The classification backend end to end with the shipped Fashion-MNIST model: real test-set images published
 * as frames come back on `results` with the right class names, at about the model's clean accuracy.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import * as path from 'node:path'
import { gunzipSync } from 'node:zlib'
import mqtt from 'mqtt'
import t from 'tap'
import { startReceiver } from '../../../scripts/backend/receive/receiver'
import type { ResultMessage } from '../../../shared/contract/topics'
import { startMosquitto } from '../../helpers/mosquitto'
import { makeFrame } from './helpers/frames'
import { SimAgent, waitFor } from './helpers/sim-agent'
import { packagePath } from '../../../agent/package-root'

const MODEL = packagePath('config', 'models', 'fmnist-cnn.onnx')
const FMNIST = '/usr/share/datasets/fashion-mnist'
const COUNT = 100

function idx(file: string, headerBytes: number): Buffer {
  return gunzipSync(readFileSync(path.join(FMNIST, file))).subarray(headerBytes)
}

t.test('Fashion-MNIST frames are classified with named classes', async (t) => {
  if (!existsSync(FMNIST)) throw new Error(`${FMNIST} missing: apt-get install dataset-fashion-mnist (CI does)`)
  const classes = (JSON.parse(readFileSync(MODEL.replace(/\.onnx$/, '.json'), 'utf8')) as { classes: string[] }).classes
  const images = idx('t10k-images-idx3-ubyte.gz', 16)
  const labels = idx('t10k-labels-idx1-ubyte.gz', 8)
  const out = mkdtempSync(path.join(tmpdir(), 'deepn-receive-'))
  t.teardown(() => rmSync(out, { recursive: true, force: true }))
  const broker = await startMosquitto()
  t.teardown(() => broker.stop())
  const results: ResultMessage[] = []
  const sub = await mqtt.connectAsync(broker.url)
  t.teardown(() => sub.endAsync(true))
  sub.on('message', (_t, p) => results.push(JSON.parse(p.toString()) as ResultMessage))
  await sub.subscribeAsync('deepn/+/results', { qos: 1 })
  const rx = await startReceiver({
    url: broker.url,
    out,
    model: MODEL,
    clientId: 'rx-fmnist',
    summaryIntervalMs: 0,
    log: () => {},
  })
  t.teardown(() => rx.close())
  await rx.subscribed

  const cam = new SimAgent(broker.url, 'fmnist-cam')
  t.teardown(() => cam.close())
  for (let k = 0; k < COUNT; k++) {
    const gray = images.subarray(k * 784, (k + 1) * 784)
    const rgba = new Uint8Array(784 * 4)
    for (let p = 0; p < 784; p++) rgba.set([gray[p], gray[p], gray[p], 255], p * 4)
    await cam.sendRaw(
      'deepn/fmnist-cam/frames',
      makeFrame({ deviceId: 'fmnist-cam', seq: k + 1, width: 28, height: 28, rgba }),
    )
  }
  await waitFor(() => results.length >= COUNT, 60000, `${COUNT} results`)
  let correct = 0
  for (const r of results) {
    const truth = labels[r.seq - 1]
    if (r.index === truth) correct++
    if (r.label !== classes[r.index])
      t.fail(`seq ${r.seq}: label '${r.label}' is not class ${r.index} '${classes[r.index]}'`)
  }
  const accuracy = correct / COUNT
  t.ok(accuracy >= 0.8, `top-1 accuracy through MQTT + JPEG q85: ${accuracy} (model's clean accuracy ≈ 0.90)`)
  t.equal(new Set(results.map((r) => r.seq)).size, COUNT, 'one result per frame')
})
