import t from 'tap'
import { MemoryFrameStore } from '../../agent/buffer/memory-store'
import { storeSuite } from './store-suite'

storeSuite(t, (limits) => new MemoryFrameStore({ limits }))

t.test('firstSeq sets where seqs start', async (t) => {
  const s = new MemoryFrameStore({ firstSeq: 500 })
  t.equal(s.append({ jpeg: new Uint8Array([1]), capturedAt: 0, tableId: 't', width: 1, height: 1 }).seq, 500)
})
