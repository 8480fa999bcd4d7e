/**
 * One device-id rule and one table-id rule on both sides of the wire: the agent's configuration validation, the
 * receiver and push-table accept and refuse exactly the same ids. Before shared/contract/ids.ts the agent took
 * `-cam` and `..` while the receiver refused them, so every frame of such a device was rejected.
 */
import t from 'tap'
import { ConfigError, validatePartial } from '../../shared/config'
import { deepnTableFile } from '../../shared/deepn/table-file'
import {
  DEVICE_ID_PATTERN,
  deviceIdFromHostname,
  deviceIdProblem,
  isDeviceId,
  isTableId,
  tableIdProblem,
} from '../../shared/contract/ids'
import { checkDeviceId, validateFrame } from '../../scripts/backend/receive/validate'
import { pushTable, tablePushMessage } from '../../scripts/backend/push-table/push-table'
import { makeFrame } from '../backend/receive/helpers/frames'

const TRICKY = [
  '-cam',
  '..',
  '.',
  '.hidden',
  'a/b',
  '/',
  '+',
  '#',
  'a+b',
  'a#b',
  'cam 1',
  ' cam',
  'cam\n',
  'cam\u0000',
  'caméra',
  '摄像头',
  'cam🎥',
  'constructor',
  '__proto__',
  'toString',
  'hasOwnProperty',
  'a'.repeat(200),
  'a'.repeat(65),
  'a'.repeat(64),
  '_cam',
  'cam-',
  'cam.',
  'CAM.1',
  '0',
  'cam-1',
  'a..b',
  '-',
  '_',
  'cam$',
  'cam%2F',
  'cam\\x',
]

/** The agent: a local configuration naming the device (deviceId is not remote-settable). */
function agentAccepts(id: string): boolean {
  try {
    validatePartial({ deviceId: id }, { remote: false })
    return true
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err
    return false
  }
}

/** The receiver: a topic's device id, checked before anything is written under it. */
function receiverAccepts(id: string): boolean {
  try {
    checkDeviceId(id)
    return true
  } catch {
    return false
  }
}

const TABLE = Array.from({ length: 64 }, (_, i) => 2 + (i % 9))

/** push-table refuses a bad device id before it connects; a good one gets as far as wanting a broker. */
async function pushTableAccepts(id: string): Promise<boolean> {
  const err = await pushTable({ deviceId: id, table: { id: 't1', luma: TABLE, chroma: TABLE } }).then(
    () => undefined,
    (e: Error) => e,
  )
  if (!err) throw new Error('pushTable without a broker cannot succeed')
  return !/^deviceId:/.test(err.message)
}

t.test('agent, receiver and push-table accept and refuse the same device ids', async (t) => {
  for (const id of TRICKY) {
    const rule = isDeviceId(id)
    const shown = JSON.stringify(id.length > 20 ? `${id.slice(0, 20)}…` : id)
    t.equal(agentAccepts(id), rule, `agent config ${shown}: ${rule ? 'accepted' : 'refused'}`)
    t.equal(receiverAccepts(id), rule, `receiver ${shown}: ${rule ? 'accepted' : 'refused'}`)
    t.equal(await pushTableAccepts(id), rule, `push-table ${shown}: ${rule ? 'accepted' : 'refused'}`)
  }
  for (const bad of ['-cam', '..', '.', 'a/b', '+', '#', 'caméra', 'a'.repeat(200), 'a'.repeat(65)])
    t.notOk(isDeviceId(bad), `${JSON.stringify(bad.slice(0, 20))} is refused`)
  for (const good of ['cam-1', 'constructor', '__proto__', '_cam', 'a'.repeat(64), '0'])
    t.ok(isDeviceId(good), `${good.slice(0, 20)} is a device id`)
})

t.test('a device the agent accepts gets its frames stored; refusals name the rule', async (t) => {
  for (const id of ['cam-1', 'constructor', 'CAM.1']) {
    t.equal(validateFrame(id, makeFrame({ deviceId: id, seq: 1 })).deviceId, id, `${id}: the receiver takes its frame`)
  }
  t.throws(
    () => checkDeviceId('-cam'),
    /device id '-cam' is not usable as a folder name or topic level: use 1\.\.64 letters/,
  )
  t.throws(
    () => validatePartial({ deviceId: '..' }, { remote: false }),
    /'deviceId' may only contain .*must not start with '\.' or '-'/,
  )
  t.match(deviceIdProblem(42), /device id must be a string, got 42/)
})

t.test('the default device id made from the host name is always a device id', async (t) => {
  for (const host of ['pi', 'raspberrypi.local', '-odd', '..', '....', 'caméra', '', 'x'.repeat(253), 'a b c']) {
    const id = deviceIdFromHostname(host)
    t.ok(DEVICE_ID_PATTERN.test(id), `${JSON.stringify(host.slice(0, 20))} → ${id.slice(0, 20)}`)
    t.ok(agentAccepts(id) && receiverAccepts(id), 'both sides take it')
  }
  t.equal(deviceIdFromHostname('raspberrypi.local'), 'raspberrypi.local')
  t.equal(deviceIdFromHostname('my pi'), 'my-pi')
})

t.test('the agent, push-table and the table builder accept and refuse the same table ids', async (t) => {
  const ids = [
    't1',
    'fmnist-optimized',
    'a'.repeat(64),
    'a'.repeat(65),
    '',
    'no spaces',
    'a/b',
    'constructor',
    '__proto__',
    'toString',
    'ü',
    '-lead',
    '.',
    '..',
    'x*2',
  ]
  for (const id of ids) {
    const rule = isTableId(id)
    let agent = true
    try {
      validatePartial(
        { encoder: { tables: Object.fromEntries([[id, { luma: TABLE, chroma: TABLE }]]) } },
        { remote: true },
      )
    } catch {
      agent = false
    }
    let selected = true
    try {
      validatePartial({ encoder: { table: id } }, { remote: true })
    } catch {
      selected = false
    }
    let pushed = true
    try {
      tablePushMessage({ id, luma: TABLE, chroma: TABLE }, 'r')
    } catch {
      pushed = false
    }
    let built = true
    try {
      deepnTableFile({ images: 1, lumaSigma: new Array(64).fill(10) } as never, { id })
    } catch (err) {
      if (!(err instanceof RangeError)) throw err
      built = false
    }
    const shown = JSON.stringify(id.slice(0, 20))
    t.equal(agent, rule, `agent encoder.tables ${shown}`)
    t.equal(selected, rule || id === '', `agent encoder.table ${shown} ('' = quality tables)`)
    t.equal(pushed, rule, `push-table ${shown}`)
    t.equal(built, rule, `table file ${shown}`)
  }
  t.match(tableIdProblem('no spaces'), /table id must be 1\.\.64 letters, digits, '\.', '_' or '-', got 'no spaces'/)
  t.match(tableIdProblem('constructor'), /names a built-in JavaScript object member/)
})
