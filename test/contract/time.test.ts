/** isoTime writes what Date#toISOString writes, without touching V8's time-zone cache. */
import t from 'tap'
import { isoTime } from '../../shared/contract/time'

t.test('the same string as toISOString', async (t) => {
  const edges = [
    0,
    -1, // 1969-12-31T23:59:59.999Z
    951782400000, // 2000-02-29 (leap day, century rule)
    4107456000000, // 2100-02-28 (not a leap year)
    Date.UTC(1900, 0, 1),
    -62167219200000, // 0000-01-01T00:00:00.000Z
    253402300799999, // 9999-12-31T23:59:59.999Z
    Date.now(),
  ]
  for (const ms of edges) t.equal(isoTime(ms), new Date(ms).toISOString(), String(ms))
  let seed = 12345
  let mismatches = 0
  for (let i = 0; i < 20000; i++) {
    seed = (seed * 1103515245 + 12345) % 2147483648
    const ms = Math.floor((seed / 2147483648) * 253402300799999 * 2) - 253402300799999 // years -5999..9999
    if (isoTime(ms) !== new Date(ms).toISOString()) mismatches++
  }
  t.equal(mismatches, 0, '20000 times from year -5999 to 9999')
})

t.test('outside four-digit years and for an invalid time it behaves as toISOString', async (t) => {
  t.equal(isoTime(-62167219200001), '-000001-12-31T23:59:59.999Z')
  t.equal(isoTime(253402300800000), '+010000-01-01T00:00:00.000Z')
  t.throws(() => isoTime(Number.NaN), RangeError)
})
