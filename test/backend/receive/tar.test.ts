/** tar.ts against GNU tar: headers it writes tar reads, and headers tar writes it reads. */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import * as path from 'node:path'
import t from 'tap'
import {
  END_OF_ARCHIVE,
  memberBytes,
  padding,
  paddingBytes,
  readTarHeader,
  tarHeader,
  writeTarHeader,
} from '../../../scripts/backend/receive/tar'

function tmp(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'deepn-tar-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

t.test('an archive of our headers is what GNU tar lists and extracts', async (t) => {
  const dir = tmp(t)
  const data = Buffer.from('x'.repeat(1000))
  const archive = Buffer.concat([
    tarHeader('000000000042.jpg', data.length, 1764000000),
    data,
    padding(data.length),
    END_OF_ARCHIVE,
  ])
  t.equal(archive.length, memberBytes(data.length) + END_OF_ARCHIVE.length)
  writeFileSync(path.join(dir, 'a.tar'), archive)
  const list = spawnSync('tar', ['-tvf', path.join(dir, 'a.tar')], { encoding: 'utf8' })
  t.equal(list.stderr, '')
  t.match(list.stdout, /^-rw-r--r-- .* 1000 \d{4}-\d\d-\d\d \d\d:\d\d 000000000042\.jpg\n$/)
  t.same(spawnSync('tar', ['-xOf', path.join(dir, 'a.tar')]).stdout, data)
})

t.test('reads the headers GNU tar writes; refuses a damaged one', async (t) => {
  const dir = tmp(t)
  writeFileSync(path.join(dir, '7.json'), '{"seq":7}\n')
  t.equal(spawnSync('tar', ['--format=ustar', '-cf', 'b.tar', '7.json'], { cwd: dir }).status, 0)
  const b = readFileSync(path.join(dir, 'b.tar'))
  t.same(readTarHeader(b.subarray(0, 512)), { name: '7.json', size: 10 })
  t.equal(readTarHeader(b.subarray(b.length - 512)), 'end', 'the end marker')
  const damaged = Buffer.from(b.subarray(0, 512))
  damaged[130] ^= 1 // the size field: the checksum no longer matches
  t.equal(readTarHeader(damaged), undefined)
  t.equal(readTarHeader(b.subarray(0, 100)), undefined, 'a torn header')
  t.throws(() => tarHeader('a b.jpg', 1, 0), /printable ASCII/)
})

t.test(
  'a header written into a shared buffer at an offset is the same header, and leaves the bytes around it',
  async (t) => {
    const buf = Buffer.alloc(3 * 512, 0xaa)
    writeTarHeader(buf, 700, '000000000007.json', 321, 1764000000)
    t.same(buf.subarray(700, 1212), tarHeader('000000000007.json', 321, 1764000000))
    t.same(readTarHeader(buf.subarray(700, 1212)), { name: '000000000007.json', size: 321 })
    t.ok(buf.subarray(0, 700).every((b) => b === 0xaa) && buf.subarray(1212).every((b) => b === 0xaa))
    t.equal(paddingBytes(512), 0)
    t.equal(paddingBytes(513), 511)
    t.equal(padding(513).length, paddingBytes(513))
  },
)
