/** Every relative link in the README and docs/*.md points at a file that exists, and the Pi guide is linked. */
import t from 'tap'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'

const ROOT = resolve(__dirname, '../..')
const pages = [
  'README.md',
  'scripts/backend/receive/README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
]

t.test('relative links resolve', async (t) => {
  for (const page of pages) {
    const text = readFileSync(join(ROOT, page), 'utf8')
    for (const m of text.matchAll(/\]\(([^)\s#]+)(#[^)]*)?\)/g)) {
      const target = m[1]
      if (/^[a-z]+:/i.test(target)) continue // http(s), mailto
      t.ok(existsSync(join(ROOT, dirname(page), target)), `${page}: link ${target}`)
    }
  }
})

t.test('the README links the Raspberry Pi guide and the configuration reference', async (t) => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')
  t.match(readme, /\]\(docs\/raspberry-pi\.md\)/)
  t.match(readme, /\]\(docs\/config\.md\)/)
})
