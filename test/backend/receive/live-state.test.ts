import t from 'tap'
import { LiveBook } from '../../../scripts/backend/receive/live-state'

const meta = (seq: number, tableId: string) => ({
  seq,
  tableId,
  capturedAt: '2026-12-02T10:00:00.000Z',
  deviceId: 'cam',
  width: 4,
  height: 2,
})

t.test('the table in use: since when, and the one before', async (t) => {
  const b = new LiveBook()
  t.equal(b.get('cam'), undefined)
  b.frame('cam', meta(1, 'q50'), 100, { file: '/d/1.jpg' }, new Date(1000))
  b.frame('cam', meta(2, 'q50'), 110, { file: '/d/2.jpg' }, new Date(2000))
  t.match(b.get('cam'), {
    tableSince: new Date(1000).toISOString(),
    lastFrame: { seq: 2, bytes: 110, file: '/d/2.jpg' },
  })
  t.equal(b.get('cam')?.previousTableId, undefined, 'no change yet')
  b.frame('cam', meta(3, 'q75'), 90, { file: '/d/3.jpg' }, new Date(3000))
  t.match(b.get('cam'), {
    tableSince: new Date(3000).toISOString(),
    previousTableId: 'q50',
    lastFrame: { tableId: 'q75' },
  })
  b.status('cam', { state: 'offline', deviceId: 'cam' }, new Date(4000))
  t.match(b.get('cam'), {
    status: { state: 'offline', receivedAt: new Date(4000).toISOString() },
    lastFrame: { seq: 3 },
  })
})
