/** `deepn demo --frames N` (what `npm start` runs): in-process broker + agent + receiver, frames on disk. */
import t from 'tap'
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs'
import { gunzipSync } from 'node:zlib'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import jpeg from 'jpeg-js'
import { readJpegMetadata } from '../../shared/codec/metadata'
import { CLI } from '../helpers/agent-process'

t.test('demo runs end to end and stops after --frames', async (t) => {
  const cwd = mkdtempSync(join(tmpdir(), 'deepn-demo-'))
  const env: NodeJS.ProcessEnv = { ...process.env, DEEPN_DEVICE_ID: 'democam', DEEPN__CAPTURE__INTERVAL_MS: '100' }
  delete env.DEEPN_MQTT_URL
  let out = ''
  const p = spawn(process.execPath, [CLI, 'demo', '--frames', '4', '--port', '0'], {
    cwd,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  p.stdout.on('data', (d) => {
    out += d
  })
  p.stderr.on('data', (d) => {
    out += d
  })
  const code = await new Promise((r) => p.once('exit', r))
  t.equal(code, 0, out)
  // text topics only (a 'deepn/#' subscription dumps binary JPEG into the terminal); frames as sizes
  t.match(out, /mosquitto_sub -h 127\.0\.0\.1 -p \d+ -t 'deepn\/\+\/status' -t 'deepn\/\+\/telemetry' .*-v/)
  t.match(out, /mosquitto_sub -h 127\.0\.0\.1 -p \d+ -t 'deepn\/\+\/frames' -F '%t %l bytes'/)
  t.notMatch(out, /-t 'deepn\/#'/)
  t.notMatch(out, /refused MQTT 5|falling back/, 'the demo speaks 3.1.1 to its own aedes broker from the start')
  t.match(out, /4 frames received/)
  const dayDirs = readdirSync(join(cwd, 'data/received/democam')).filter((d) => /^\d{4}-\d\d-\d\d$/.test(d))
  const files = dayDirs.flatMap((d) =>
    readdirSync(join(cwd, 'data/received/democam', d)).map((f) => join(cwd, 'data/received/democam', d, f)),
  )
  t.ok(files.length >= 4, `${files.length} files`)
  for (const f of files) {
    const buf = readFileSync(f)
    t.equal(jpeg.decode(buf).width, 640)
    t.equal(readJpegMetadata(new Uint8Array(buf))!.deviceId, 'democam')
  }
  t.ok(existsSync(join(cwd, 'data/demo-buffer.db')), 'the buffer lives under ./data')
})

t.test(
  'demo --fmnist: Fashion-MNIST images through the agent, classified by the receiver',
  {
    skip:
      !existsSync('/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz') &&
      'dataset-fashion-mnist not installed',
  },
  async (t) => {
    const cwd = mkdtempSync(join(tmpdir(), 'deepn-demo-fmnist-'))
    const env: NodeJS.ProcessEnv = { ...process.env, DEEPN_DEVICE_ID: 'fmcam' }
    delete env.DEEPN_MQTT_URL
    let out = ''
    const p = spawn(process.execPath, [CLI, 'demo', '--fmnist', '--frames', '10', '--port', '0'], {
      cwd,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    p.stdout.on('data', (d) => {
      out += d
    })
    p.stderr.on('data', (d) => {
      out += d
    })
    t.equal(await new Promise((r) => p.once('exit', r)), 0, out)
    const labels = gunzipSync(readFileSync('/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz')).subarray(8)
    const classes = [
      'T-shirt/top',
      'Trouser',
      'Pullover',
      'Dress',
      'Coat',
      'Sandal',
      'Shirt',
      'Sneaker',
      'Bag',
      'Ankle boot',
    ]
    const got = [...out.matchAll(/seq (\d+): (.+?) \(/g)].map((m) => ({ seq: Number(m[1]), label: m[2] }))
    t.equal(got.length, 10, 'a classification per frame')
    const correct = got.filter((r) => classes[labels[r.seq - 1]] === r.label).length
    t.ok(correct >= 7, `${correct}/10 classified as their true label`)
    // the demo shows each frame's true label and the running accuracy, and agrees with the labels file
    const shown = [...out.matchAll(/seq (\d+): (.+?) \(.*, true label (.+?) [✓✗]; accuracy so far (\d+)\/(\d+)/g)]
    t.equal(shown.length, 10, 'true label and running accuracy on every line')
    for (const m of shown) t.equal(m[3], classes[labels[Number(m[1]) - 1]], `seq ${m[1]}: true label`)
    const lastShown = shown[shown.length - 1]
    t.same([Number(lastShown[4]), Number(lastShown[5])], [correct, 10], 'running accuracy counts the right answers')
  },
)
