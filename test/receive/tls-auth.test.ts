/**
 * TLS with a private CA and username/password from a file against a real Mosquitto: the receiver connects and
 * stores; with a wrong password it stores nothing, says why, and keeps running.
 */
import { execFileSync } from 'node:child_process'
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import * as path from 'node:path'
import mqtt from 'mqtt'
import t from 'tap'
import { parseReceiveArgs } from '../../scripts/receive/options'
import { startReceiver } from '../../scripts/receive/receiver'
import { startMosquitto } from '../helpers/mosquitto'
import { framesOnDisk } from './helpers/disk'
import { makeFrame } from './helpers/frames'
import { sleep, waitFor } from './helpers/sim-agent'

function makePki(dir: string): void {
  const run = (cmd: string, args: string[]) => execFileSync(cmd, args, { cwd: dir, stdio: 'pipe' })
  run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=deepn test CA'])
  run('openssl', ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1'])
  writeFileSync(path.join(dir, 'ext'), 'subjectAltName=IP:127.0.0.1\n')
  run('openssl', ['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '2', '-extfile', 'ext'])
  run('mosquitto_passwd', ['-c', '-b', 'passwd', 'receiver', 'right-password'])
  run('mosquitto_passwd', ['-b', 'passwd', 'camera', 'camera-password'])
  // Mosquitto started as root reads these as the `mosquitto` user.
  chmodSync(dir, 0o755)
  for (const f of ['server.key', 'server.crt', 'ca.crt', 'passwd']) chmodSync(path.join(dir, f), 0o644)
}

t.test('TLS + password file', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'deepn-tls-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  makePki(dir)
  const broker = await startMosquitto({
    extraConfig: [`cafile ${dir}/ca.crt`, `certfile ${dir}/server.crt`, `keyfile ${dir}/server.key`, `password_file ${dir}/passwd`, 'allow_anonymous false'],
  })
  t.teardown(() => broker.stop())
  const url = `mqtts://127.0.0.1:${broker.port}`
  const pw = path.join(dir, 'rx-password')
  writeFileSync(pw, 'right-password\n')
  const good = parseReceiveArgs(['--url', url, '--ca', path.join(dir, 'ca.crt'), '--username', 'receiver', '--password-file', pw, '--out', path.join(dir, 'ds'), '--client-id', 'rx-tls', '--summary', '0'])
  if (good === 'help') throw new Error('unexpected help')
  const rx = await startReceiver({ ...good, log: () => {} })
  t.teardown(() => rx.close())
  await rx.subscribed

  const badLines: string[] = []
  const bad = await startReceiver({ ...good, password: 'wrong', clientId: 'rx-bad', out: path.join(dir, 'ds-bad'), log: (l) => badLines.push(l) })
  t.teardown(() => bad.close())

  const cam = await mqtt.connectAsync(url, { ca: readFileSync(path.join(dir, 'ca.crt')), username: 'camera', password: 'camera-password' })
  t.teardown(() => cam.endAsync(true))
  for (let seq = 1; seq <= 3; seq++) await cam.publishAsync('deepn/tls-cam/frames', makeFrame({ deviceId: 'tls-cam', seq }), { qos: 1 })
  await waitFor(() => framesOnDisk(path.join(dir, 'ds'), 'tls-cam').size === 3, 10000, 'frames over TLS')
  t.pass('frames stored over TLS with password auth')
  await sleep(2500) // the bad receiver retries meanwhile
  t.equal(framesOnDisk(path.join(dir, 'ds-bad'), 'tls-cam').size, 0, 'wrong password: nothing stored')
  t.match(badLines.join('\n'), /Not authorized|Bad User Name or Password/i, 'says why')
  t.ok(badLines.filter((l) => /Not authorized|Bad User Name or Password/i.test(l)).length <= 1, 'repeated refusals are not logged every second')
})
