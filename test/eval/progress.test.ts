import t from 'tap'
import { Progress } from '../../scripts/eval/progress'

function captureStderr(fn: () => void): string {
  const chunks: string[] = []
  const write = process.stderr.write.bind(process.stderr)
  process.stderr.write = ((s: string) => {
    chunks.push(String(s))
    return true
  }) as typeof process.stderr.write
  try {
    fn()
  } finally {
    process.stderr.write = write
  }
  return chunks.join('')
}

t.test('draws a bar that reaches 100% and ends the line', async (t) => {
  const out = captureStderr(() => {
    const p = new Progress(4, true, 'jpeg q50')
    for (let i = 0; i < 4; i++) p.tick()
    p.end()
  })
  t.match(out, /\r\[#{30}\] 100% 4\/4 .*jpeg q50/)
  t.ok(out.endsWith('\n'))
})

t.test('silent when disabled (not a TTY, no --progress)', async (t) => {
  const out = captureStderr(() => {
    const p = new Progress(3, false)
    p.tick(3)
    p.end()
  })
  t.equal(out, '')
})
