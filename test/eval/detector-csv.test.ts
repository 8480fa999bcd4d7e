import t from 'tap'
import { tagCsv, untagCsv } from '../../scripts/eval/detector-csv'

const CSV = 'curve,quality\njpeg,5\njpeg,100\n'

t.test('a tagged CSV leads with its detector and reads back to the same CSV', async (t) => {
  const tagged = tagCsv(CSV, 'centernet')
  t.equal(tagged, 'detector,curve,quality\ncenternet,jpeg,5\ncenternet,jpeg,100\n')
  t.same(untagCsv(tagged), { detector: 'centernet', csv: CSV })
})

t.test("a CSV from before the column is COCO-SSD's, unchanged", async (t) => {
  t.same(untagCsv(CSV), { detector: 'coco-ssd', csv: CSV })
})

t.test('an unknown or mixed detector column is refused, naming it', async (t) => {
  t.throws(
    () => untagCsv('detector,curve\nyolo,jpeg\n'),
    /CSV names detector 'yolo', not one of coco-ssd, centernet, nanodet/,
  )
  t.throws(
    () => untagCsv('detector,curve\ncoco-ssd,jpeg\ncenternet,jpeg\n'),
    /CSV names 2 detectors \(coco-ssd, centernet\), expected one/,
  )
})
