/**
 * TLS with a private CA and client certificates, and username/password from a file, against a real Mosquitto.
 * Certificates are generated per run with the openssl CLI.
 */
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { chmodSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { MqttLink, type LinkUp } from '../../agent/mqtt/link'
import { loadLocalConfig } from '../../agent/config-file'
import { memoryLogger } from '../helpers/log'
import { startMosquitto, freePort, waitForPort } from '../helpers/mosquitto'

const log = memoryLogger('error')

function makePki(dir: string): void {
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' })
  ssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '2',
    '-subj',
    '/CN=deepn test CA',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
  )
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n')
  ssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', 'server.key', '-out', 'server.csr')
  ssl(
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    'san.ext',
    '-out',
    'server.pem',
  )
  ssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=cam-1', '-keyout', 'client.key', '-out', 'client.csr')
  ssl(
    'x509',
    '-req',
    '-in',
    'client.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-days',
    '2',
    '-out',
    'client.pem',
  )
}

function upOrError(link: MqttLink, ms = 8000): Promise<LinkUp | Error> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(new Error('timeout')), ms)
    link.once('up', (i: LinkUp) => {
      clearTimeout(timer)
      resolve(i)
    })
    link.once('problem', (e: Error) => {
      clearTimeout(timer)
      resolve(e)
    })
  })
}

t.test('mqtts with CA, client certificate and password file', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'deepn-tls-'))
  makePki(dir)
  execFileSync('mosquitto_passwd', ['-c', '-b', join(dir, 'passwd'), 'cam', 's3cret'])
  // Mosquitto started as root drops to its own user, which must be able to read these test-only files.
  chmodSync(dir, 0o755)
  for (const f of readdirSync(dir)) chmodSync(join(dir, f), 0o644)
  const port = await freePort()
  const tls = await startMosquitto({
    globalConfig: ['per_listener_settings true'],
    extraConfig: [
      `listener ${port} 127.0.0.1`,
      `cafile ${join(dir, 'ca.pem')}`,
      `certfile ${join(dir, 'server.pem')}`,
      `keyfile ${join(dir, 'server.key')}`,
      'require_certificate true',
      `password_file ${join(dir, 'passwd')}`,
      'allow_anonymous false',
    ],
  })
  await waitForPort(port)
  t.teardown(() => tls.stop())
  writeFileSync(join(dir, 'password.txt'), 's3cret\n')
  const cfgFile = join(dir, 'config.json')
  writeFileSync(
    cfgFile,
    JSON.stringify({
      mqtt: {
        url: `mqtts://127.0.0.1:${port}`,
        username: 'cam',
        passwordFile: join(dir, 'password.txt'),
        ca: join(dir, 'ca.pem'),
        cert: join(dir, 'client.pem'),
        key: join(dir, 'client.key'),
      },
    }),
  )
  const c = loadLocalConfig({ file: cfgFile, env: {} }).config
  t.equal(c.mqtt.password, 's3cret', 'password read from the file, trailing newline dropped')
  const mk = (over: { password?: string; cert?: string }) =>
    new MqttLink({
      url: c.mqtt.url,
      protocol: 'auto',
      clientId: `tls-${Math.random().toString(16).slice(2)}`,
      username: c.mqtt.username,
      password: over.password ?? c.mqtt.password,
      tls: { ca: c.mqtt.ca, cert: over.cert ?? c.mqtt.cert, key: c.mqtt.key, rejectUnauthorized: true },
      keepaliveSec: 30,
      connectTimeoutMs: 5000,
      reconnect: { minMs: 5000, maxMs: 5000 },
      log,
    })
  const good = mk({})
  const r = upOrError(good)
  good.start()
  const info = await r
  t.notOk(info instanceof Error, `connected over TLS: ${info instanceof Error ? info.message : ''}`)
  await good.publish('x/y', 'hello', { qos: 1 })
  await good.close()

  const wrongPw = mk({ password: 'nope' })
  const r2 = upOrError(wrongPw)
  wrongPw.start()
  const e2 = await r2
  t.ok(e2 instanceof Error, 'a wrong password is refused')
  t.match((e2 as Error).message, /Not authorized|Bad User Name or Password|authori/i)
  await wrongPw.close()
})
