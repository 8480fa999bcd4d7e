/**
 * CoalescedSync: a caller is answered by a sync that started after its call; callers arriving while one runs share
 * the next; a failure reaches exactly the callers that sync covered. The syncs here are functions whose completion
 * the test controls (the shard store's tests run it on real files).
 */
import t from 'tap'
import { CoalescedSync } from '../../../scripts/backend/receive/coalesced-sync'

/** A sync function recording when each call starts, finished by the test. */
function controlled() {
  const calls: Array<{ resolve: () => void; reject: (err: Error) => void }> = []
  const sync = () =>
    new Promise<void>((resolve, reject) => {
      calls.push({ resolve, reject })
    })
  return { calls, sync }
}

const tick = () => new Promise((resolve) => setImmediate(resolve))

t.test('callers during a running sync share the next one, started when it ends', async (t) => {
  const { calls, sync } = controlled()
  const s = new CoalescedSync(sync)
  const done: string[] = []
  const first = s.request().then(() => done.push('first'))
  const second = s.request().then(() => done.push('second'))
  const third = s.request().then(() => done.push('third'))
  await tick()
  t.equal(calls.length, 1, 'one sync running; the later callers wait for the next')
  calls[0].resolve()
  await first
  await tick()
  t.same(done, ['first'], 'the running sync does not answer callers that came after it started')
  t.equal(calls.length, 2, 'the next sync starts when the running one ends, once for both waiting callers')
  calls[1].resolve()
  await Promise.all([second, third])
  t.same(done, ['first', 'second', 'third'])
})

t.test('with nothing running, a caller starts its own sync at once', async (t) => {
  const { calls, sync } = controlled()
  const s = new CoalescedSync(sync)
  const a = s.request()
  await tick()
  calls[0].resolve()
  await a
  const b = s.request()
  await tick()
  t.equal(calls.length, 2, 'a new sync, not the finished one')
  calls[1].resolve()
  await b
})

t.test('a failed sync fails the callers it covered, and the queued ones still get a sync of their own', async (t) => {
  const { calls, sync } = controlled()
  const s = new CoalescedSync(sync)
  const first = s.request()
  const later = s.request()
  await tick()
  calls[0].reject(new Error('EIO'))
  await t.rejects(first, /EIO/)
  await tick()
  t.equal(calls.length, 2, 'the waiting caller is not failed by a sync that started before it')
  calls[1].resolve()
  await t.resolves(later)
})
