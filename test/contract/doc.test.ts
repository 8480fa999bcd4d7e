/** docs/protocol.md is rendered from shared/contract (examples built and parsed by the code) and is current. */
import t from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { renderProtocolDoc } from '../../shared/contract/doc'
import { TOPICS } from '../../shared/contract/topics'

const ROOT = join(__dirname, '../..')

t.test('docs/protocol.md is generated from the contract and current', async (t) => {
  const doc = readFileSync(join(ROOT, 'docs/protocol.md'), 'utf8')
  t.equal(doc, renderProtocolDoc(), 'run `npm run build && npm run docs:protocol` to regenerate docs/protocol.md')
  for (const s of TOPICS) t.match(doc, `### \`${s.leaf}\``, `a section for ${s.leaf}`)
  t.match(doc, /## Requests and responses/)
  t.match(doc, /\*\*Device id\*\*/)
})

t.test('the README links the protocol page', async (t) => {
  t.match(readFileSync(join(ROOT, 'README.md'), 'utf8'), /\]\(docs\/protocol\.md\)/)
})
