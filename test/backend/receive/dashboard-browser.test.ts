/// <reference lib="dom" />
/**
 * The dashboard in a real headless Chromium (Debian's, driven by puppeteer-core): `deepn receive --http` as a
 * user runs it, a real Mosquitto and two simulated devices streaming frames. The page must show both devices,
 * decode each one's last frame and update its frame counter live (Server-Sent Events), with no page errors.
 * DEEPN_DASHBOARD_SCREENSHOT=1 also writes the screenshot to docs/dashboard.png (the README's picture).
 */
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import * as path from 'node:path'
import mqtt from 'mqtt'
import puppeteer from 'puppeteer-core'
import t from 'tap'
import { buildStatus, statusMessage } from '../../../shared/contract/status'
import { buildTelemetry } from '../../../shared/contract/telemetry'
import { freePort, startMosquitto } from '../../helpers/mosquitto'
import { makeFrame } from './helpers/frames'
import { ReceiverProcess } from './helpers/receiver-process'
import { SimAgent, sleep } from './helpers/sim-agent'
import { telemetry } from './helpers/telemetry'

const CHROMIUM = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium'

t.test('two devices stream; the page shows both, their last frames and a moving counter', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'deepn-dash-browser-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const broker = await startMosquitto()
  t.teardown(() => broker.stop())
  const port = await freePort()
  const rx = new ReceiverProcess([
    '--url',
    broker.url,
    '--out',
    path.join(dir, 'out'),
    '--summary',
    '0',
    '--http',
    `${port}`,
  ])
  t.teardown(() => rx.kill('SIGTERM'))
  await rx.waitForOutput(`dashboard on http://127.0.0.1:${port}/`)
  await rx.waitForOutput('subscribed to')

  const devices = [new SimAgent(broker.url, 'cam-door'), new SimAgent(broker.url, 'cam-yard')]
  const pub = mqtt.connect(broker.url)
  let streaming = true
  await pub.publishAsync('deepn/cam-door/status', buildStatus(statusMessage('online', 'cam-door')), {
    retain: true,
    qos: 1,
  })
  await pub.publishAsync(
    'deepn/cam-yard/status',
    buildStatus(statusMessage('degraded', 'cam-yard', { reason: 'buffer nearly full: oldest frames dropped' })),
    { retain: true, qos: 1 },
  )
  const streams = devices.map(async (d, i) => {
    for (let seq = 1; streaming; seq++) {
      if (i === 1 && seq === 5) continue // a gap the page shows
      const frame = makeFrame({ deviceId: d.deviceId, seq, width: 160, height: 120, tableId: `deepn-q${50 + 25 * i}` })
      await d.sendRaw(`deepn/${d.deviceId}/frames`, frame)
      await sleep(100)
    }
  })
  // Stop the streams before closing their clients: a send to a closed client would retry for ever.
  t.teardown(async () => {
    streaming = false
    await Promise.all(streams)
    await Promise.all(devices.map((d) => d.close()))
    await pub.endAsync(true)
  })
  for (const [i, d] of devices.entries())
    await pub.publishAsync(`deepn/${d.deviceId}/telemetry`, buildTelemetry(telemetry(d.deviceId, 3 + 40 * i)), {
      qos: 1,
    })

  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'], // CI runs as root
  })
  t.teardown(() => browser.close())
  const page = await browser.newPage()
  const errors: string[] = []
  page.on('pageerror', (err) => errors.push(String(err)))
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()))
  await page.setViewport({ width: 1200, height: 420 })
  await page.goto(`http://127.0.0.1:${port}/`)

  await page.waitForFunction(() => document.querySelectorAll('tr[data-device]').length === 2, { timeout: 15000 })
  t.same(await page.$$eval('tr[data-device]', (rows) => rows.map((r) => (r as HTMLElement).dataset.device).sort()), [
    'cam-door',
    'cam-yard',
  ])
  // The widths are read in the same step that sees every thumbnail decoded: the page swaps a thumbnail for the
  // next frame's while frames stream, so a second look may catch one still loading.
  const decoded = await page.waitForFunction(
    () => {
      const imgs = Array.from(document.querySelectorAll<HTMLImageElement>('img.thumb'))
      return imgs.every((i) => i.complete && i.naturalWidth > 0) && imgs.map((i) => i.naturalWidth)
    },
    { timeout: 15000 },
  )
  t.same(await decoded.jsonValue(), [160, 160], 'both last frames decoded')
  const frames = () =>
    page.$eval('tr[data-device="cam-door"] td.frames', (td) => Number.parseInt(td.textContent ?? '', 10))
  const before = await frames()
  await sleep(2500)
  const after = await frames()
  t.ok(after > before, `frame counter moved live: ${before} → ${after}`)
  t.match(await page.$eval('tr[data-device="cam-yard"]', (r) => r.textContent), /degraded.*buffer nearly full/)
  t.match(await page.$eval('tr[data-device="cam-yard"] td.gaps', (r) => r.textContent), /1 missing: 5/)
  t.match(await page.$eval('tr[data-device="cam-door"] td.table', (r) => r.textContent), /deepn-q50/)
  t.match(await page.$eval('#conn', (e) => e.textContent), 'live')

  const shot = path.join(dir, 'dashboard.png')
  await page.screenshot({ path: shot })
  t.ok(readFileSync(shot).subarray(1, 4).toString() === 'PNG', 'screenshot written')
  if (process.env.DEEPN_DASHBOARD_SCREENSHOT === '1')
    copyFileSync(shot, path.join(__dirname, '../../../docs/dashboard.png'))
  t.same(errors, [], 'no page errors')
  t.ok(existsSync(CHROMIUM))
})
