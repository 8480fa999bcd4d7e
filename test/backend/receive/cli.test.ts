import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import * as path from 'node:path'
import t from 'tap'
import { parseReceiveArgs } from '../../../scripts/backend/receive/options'
import { ReceiverProcess } from './helpers/receiver-process'

t.test('options: defaults, environment, credentials from a file', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'deepn-cli-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const pw = path.join(dir, 'pw')
  writeFileSync(pw, 's3cret\n')
  const o = parseReceiveArgs(['--out', 'x', '--ack', '--ca', 'ca.pem', '--password-file', pw], {
    DEEPN_MQTT_URL: 'mqtts://b:8883',
    DEEPN_MQTT_USERNAME: 'u',
  })
  t.match(o, {
    url: 'mqtts://b:8883',
    prefix: 'deepn',
    out: 'x',
    ack: true,
    username: 'u',
    password: 's3cret',
    tls: { ca: 'ca.pem', rejectUnauthorized: true },
    summaryIntervalMs: 10000,
    layout: 'folders',
  })
  t.match(parseReceiveArgs(['--layout', 'shards']), { layout: 'shards' })
  t.match(parseReceiveArgs([], { DEEPN_MQTT_PASSWORD: 'p' }), {
    url: 'mqtt://localhost:1883',
    password: 'p',
    ack: false,
  })
  t.equal(parseReceiveArgs(['-h']), 'help')
})

t.test('options: bad input is named', async (t) => {
  t.throws(() => parseReceiveArgs(['--bogus']), /bogus/)
  t.throws(() => parseReceiveArgs(['--protocol', '7']), /--protocol must be auto, 5 or 3.1.1/)
  t.throws(() => parseReceiveArgs(['--prefix', 'a/#']), /--prefix/)
  t.throws(() => parseReceiveArgs(['--ack-every', '0']), /--ack-every must be an integer >= 1/)
  t.throws(() => parseReceiveArgs(['--labels', 'l.txt']), /--labels needs --model/)
  t.throws(() => parseReceiveArgs(['--layout', 'tar']), /--layout must be folders or shards, got 'tar'/)
  t.throws(
    () => parseReceiveArgs(['--layout', 'shards', '--group', 'g']),
    /--layout shards does not support --group yet; use --layout folders/,
  )
  t.throws(() => parseReceiveArgs(['--password-file', '/nonexistent/pw']), /cannot read \/nonexistent\/pw: ENOENT/)
})

t.test('deepn receive --help and a usage error, as a process', async (t) => {
  const help = new ReceiverProcess(['--help'])
  t.equal((await help.exited).code, 0)
  t.match(help.stderr, /usage: deepn receive/)
  const bad = new ReceiverProcess(['--nope'])
  t.equal((await bad.exited).code, 2)
  t.match(bad.stderr, /deepn receive: .*nope/)
})

t.test('a dataset of the other layout stops the command with the fix, nothing written', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'deepn-cli-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const out = path.join(dir, 'ds')
  mkdirSync(path.join(out, 'cam-a', '2026-11-25'), { recursive: true })
  const rx = new ReceiverProcess(['--layout', 'shards', '--url', 'mqtt://127.0.0.1:1', '--out', out])
  t.equal((await rx.exited).code, 1)
  t.match(rx.stderr, /holds frames in the 'folders' layout; run with --layout folders, or give another --out/)
  t.notMatch(rx.stderr, /\n\s+at /, 'no stack trace')
  t.same(readdirSync(out), ['cam-a'], 'no layout mark written')
})

t.test('a model that cannot load stops the command with the reason', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'deepn-cli-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const out = path.join(dir, 'ds')
  const rx = new ReceiverProcess(['--model', '/nonexistent/m.onnx', '--url', 'mqtt://127.0.0.1:1', '--out', out])
  t.equal((await rx.exited).code, 1)
  t.match(rx.stderr, /cannot read model \/nonexistent\/m.onnx/)
  t.notOk(existsSync(out), 'nothing created before the model loads')
})
