/** Classification runs a few frames at once, off the PUBACK path; its results come out in queue order. */
import t from 'tap'
import { ClassifyQueue } from '../../../scripts/backend/receive/classify-queue'

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void
  const promise = new Promise<void>((r) => {
    resolve = r
  })
  return { promise, resolve }
}

t.test('results in queue order, at most three running, size is the backlog, drained waits for the last', async (t) => {
  let progress = 0
  const q = new ClassifyQueue(() => progress++)
  const gates = Array.from({ length: 6 }, () => deferred())
  const started: number[] = []
  const delivered: number[] = []
  for (const [k, g] of gates.entries()) {
    q.push(async () => {
      started.push(k)
      await g.promise
      return () => {
        delivered.push(k)
      }
    })
  }
  t.same(started, [0, 1, 2], 'three at once')
  t.equal(q.size, 6)
  gates[2].resolve()
  gates[1].resolve()
  await new Promise((r) => setImmediate(r))
  t.same(delivered, [], 'finished ones wait for the first')
  t.same(started, [0, 1, 2, 3, 4], 'finished ones make room')
  const drained = q.drained()
  gates[0].resolve()
  await new Promise((r) => setImmediate(r))
  t.same(delivered, [0, 1, 2])
  t.equal(q.size, 3)
  t.equal(progress, 3, 'the receiver hears each delivery (to let the session read on)')
  for (const g of gates.slice(3)) g.resolve()
  await drained
  t.same(delivered, [0, 1, 2, 3, 4, 5])
  t.equal(q.size, 0)
})
