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
  tarMembers,
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
  'tarMembers: the pieces of a run of members are the archive tarHeader and padding make, and GNU tar reads it',
  async (t) => {
    const dir = tmp(t)
    const jpegs = [Buffer.from('a'.repeat(1000)), Buffer.from('b'.repeat(512)), Buffer.alloc(0)]
    const members = jpegs.flatMap((data, k) => [
      { name: `00000000000${k}.jpg`, data },
      { name: `00000000000${k}.json`, data: `{"seq":${k},"note":"é"}\n` }, // UTF-8: bytes, not characters
    ])
    const pieces = tarMembers(members, 1764000000)
    t.equal(pieces.length, 2 * jpegs.length + 1, 'two pieces per byte member, and the tail')
    t.ok(
      jpegs.every((j) => pieces.includes(j)),
      'byte data is passed by reference, not copied',
    )
    const expected = Buffer.concat(
      members.flatMap(({ name, data }) => {
        const bytes = typeof data === 'string' ? Buffer.from(data) : data
        return [tarHeader(name, bytes.length, 1764000000), bytes, padding(bytes.length)]
      }),
    )
    const archive = Buffer.concat(pieces)
    t.same(archive, expected)
    t.equal(paddingBytes(512), 0)
    t.equal(paddingBytes(513), 511)
    writeFileSync(path.join(dir, 'm.tar'), Buffer.concat([archive, END_OF_ARCHIVE]))
    const list = spawnSync('tar', ['-tf', path.join(dir, 'm.tar')], { encoding: 'utf8' })
    t.equal(list.stderr, '')
    t.same(
      list.stdout.trim().split('\n'),
      members.map((m) => m.name),
    )
    const json = spawnSync('tar', ['-xOf', path.join(dir, 'm.tar'), '000000000001.json'], { encoding: 'utf8' })
    t.equal(json.stdout, '{"seq":1,"note":"é"}\n')
  },
)
