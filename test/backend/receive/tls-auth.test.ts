/**
 * TLS with a private CA and username/password from a file against a real Mosquitto: the receiver connects and
 * stores; with a wrong password it stores nothing and gives up with the reason (a refused login is a configuration
 * error: `deepn receive` exits 1 with one line, like mosquitto_sub).
 */
import { execFileSync } from 'node:child_process'
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import * as path from 'node:path'
import mqtt from 'mqtt'
import t from 'tap'
import { parseReceiveArgs } from '../../../scripts/backend/receive/options'
import { startReceiver } from '../../../scripts/backend/receive/receiver'
import { startMosquitto } from '../../helpers/mosquitto'
import { framesOnDisk } from './helpers/disk'
import { makeFrame } from './helpers/frames'
import { ReceiverProcess } from './helpers/receiver-process'
import { waitFor } from './helpers/sim-agent'

function makePki(dir: string): void {
  const run = (cmd: string, args: string[]) => execFileSync(cmd, args, { cwd: dir, stdio: 'pipe' })
  run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-days',
    '2',
    '-subj',
    '/CN=deepn test CA',
  ])
  run('openssl', [
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'server.key',
    '-out',
    'server.csr',
    '-subj',
    '/CN=127.0.0.1',
  ])
  writeFileSync(path.join(dir, 'ext'), 'subjectAltName=IP:127.0.0.1\n')
  run('openssl', [
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'server.crt',
    '-days',
    '2',
    '-extfile',
    'ext',
  ])
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
    extraConfig: [
      `cafile ${dir}/ca.crt`,
      `certfile ${dir}/server.crt`,
      `keyfile ${dir}/server.key`,
      `password_file ${dir}/passwd`,
      'allow_anonymous false',
    ],
  })
  t.teardown(() => broker.stop())
  const url = `mqtts://127.0.0.1:${broker.port}`
  const pw = path.join(dir, 'rx-password')
  writeFileSync(pw, 'right-password\n')
  const good = parseReceiveArgs([
    '--url',
    url,
    '--ca',
    path.join(dir, 'ca.crt'),
    '--username',
    'receiver',
    '--password-file',
    pw,
    '--out',
    path.join(dir, 'ds'),
    '--client-id',
    'rx-tls',
    '--summary',
    '0',
  ])
  if (good === 'help') throw new Error('unexpected help')
  const rx = await startReceiver({ ...good, log: () => {} })
  t.teardown(() => rx.close())
  await rx.subscribed

  const badLines: string[] = []
  const bad = await startReceiver({
    ...good,
    password: 'wrong',
    clientId: 'rx-bad',
    out: path.join(dir, 'ds-bad'),
    log: (l) => badLines.push(l),
  })
  t.teardown(() => bad.close())
  const within = <T>(p: Promise<T>, ms: number): Promise<T> =>
    Promise.race([
      p,
      new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`still waiting after ${ms} ms`)), ms).unref()),
    ])
  await t.rejects(
    within(bad.subscribed, 30000),
    /refused the login as user 'receiver' \(client id rx-bad\): .*(Not authorized|Bad User Name or Password)/i,
    'subscribed rejects with the reason',
  )
  t.match((await within(bad.failed, 1000)).message, /refused the login/, 'failed resolves with the same reason')

  const cam = await mqtt.connectAsync(url, {
    ca: readFileSync(path.join(dir, 'ca.crt')),
    username: 'camera',
    password: 'camera-password',
  })
  t.teardown(() => cam.endAsync(true))
  for (let seq = 1; seq <= 3; seq++)
    await cam.publishAsync('deepn/tls-cam/frames', makeFrame({ deviceId: 'tls-cam', seq }), { qos: 1 })
  await waitFor(() => framesOnDisk(path.join(dir, 'ds'), 'tls-cam').size === 3, 10000, 'frames over TLS')
  t.pass('frames stored over TLS with password auth')
  t.equal(framesOnDisk(path.join(dir, 'ds-bad'), 'tls-cam').size, 0, 'wrong password: nothing stored')
  t.notMatch(badLines.join('\n'), /unreachable; retrying/, 'no reconnect loop')

  // the command: one line naming the refusal, exit 1, well before the test's timeout (it used to run until SIGINT)
  const wrongPw = path.join(dir, 'wrong-password')
  writeFileSync(wrongPw, 'wrong\n')
  const cli = new ReceiverProcess([
    '--url',
    url,
    '--ca',
    path.join(dir, 'ca.crt'),
    '--username',
    'receiver',
    '--password-file',
    wrongPw,
    '--out',
    path.join(dir, 'ds-cli'),
    '--client-id',
    'rx-cli',
  ])
  t.teardown(() => cli.kill('SIGKILL'))
  const timeout = setTimeout(() => cli.kill('SIGKILL'), 60000) // generous for a loaded machine; it used to run forever
  const exit = await cli.exited
  clearTimeout(timeout)
  t.equal(exit.code, 1, `exit 1 (got ${JSON.stringify(exit)}):\n${cli.stderr}`)
  const last = cli.stderr.trim().split('\n').pop()
  t.match(
    last,
    /^deepn receive: broker mqtts:\/\/127\.0\.0\.1:\d+ refused the login as user 'receiver' \(client id rx-cli\): .*(Not authorized|Bad User Name or Password)/i,
  )
  t.equal(cli.stderr.match(/refused the login/g)?.length, 1, 'said once')
})
