/** One suite, every layout (test/backend/receive/helpers/frame-store-suite.ts). */
import t from 'tap'
import { Dataset } from '../../../scripts/backend/receive/dataset'
import { ShardStore } from '../../../scripts/backend/receive/shard-store'
import { frameStoreSuite } from './helpers/frame-store-suite'

t.test('folders layout', async (t) => frameStoreSuite(t, (root) => Dataset.open(root)))
t.test('shards layout', async (t) => frameStoreSuite(t, (root) => ShardStore.open(root)))
t.test('shards layout, a shard per frame', async (t) =>
  frameStoreSuite(t, (root) => ShardStore.open(root, { shardBytes: 1 })),
)
