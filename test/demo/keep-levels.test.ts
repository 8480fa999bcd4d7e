/** `deepn demo --video --keep-levels A/B/C`: what the learned map keeps per level, refused by name when malformed. */
import t from 'tap'
import { UsageError } from '../../agent/cli-args'
import { parseKeepLevels } from '../../scripts/demo/video'

t.test('three counts, each level at least the one before', async (t) => {
  t.same(parseKeepLevels('3/10/64'), [3, 10, 64])
  t.same(parseKeepLevels('1/1/6'), [1, 1, 6])
  t.same(parseKeepLevels('0/1/6'), [0, 1, 6], '0: blank cells')
  t.same(parseKeepLevels('1/1/1/6'), [1, 1, 1, 6], 'four: walkways and standing places')
  t.same(parseKeepLevels('64/64/64'), [64, 64, 64])
})

t.test('malformed levels are refused with the option and an example', async (t) => {
  for (const bad of ['', '3/10', '3/10/64/64/64', '1/1/65', '1.5/3/6', 'a/b/c', '3//64', '-1/3/6'])
    t.throws(
      () => parseKeepLevels(bad),
      { constructor: UsageError, message: /--keep-levels needs three or four counts/ },
      bad,
    )
  t.throws(() => parseKeepLevels('6/3/64'), { constructor: UsageError, message: /busier level must keep at least/ })
  t.throws(() => parseKeepLevels('1/10/6'), { constructor: UsageError, message: /busier level must keep at least/ })
})
