/**
 * The few pieces of POSIX ustar the shard layout needs (shard-store.ts): a member's 512-byte header, the padding
 * after its data, the end-of-archive marker, and reading one header back. GNU tar, Python's tarfile and WebDataset
 * read what these write; an archive whose end marker is not written yet (the shard being appended to) reads as
 * the members so far.
 */

export const BLOCK = 512
/** Two zero blocks end an archive. */
export const END_OF_ARCHIVE = Buffer.alloc(2 * BLOCK)
const ZEROS = Buffer.alloc(BLOCK)
/** ustar's size field: 11 octal digits. */
export const MAX_MEMBER_BYTES = 8 ** 11 - 1

/** The fields every member shares (mode, owner, type, magic; checksum as spaces), and the sum of their bytes. */
const TEMPLATE = (() => {
  const h = Buffer.alloc(BLOCK)
  octal(h, 100, 8, 0o644) // mode
  octal(h, 108, 8, 0) // uid
  octal(h, 116, 8, 0) // gid
  h.fill(0x20, 148, 156) // the checksum field counts as spaces while summing
  h[156] = 0x30 // '0': regular file
  h.write('ustar\x0000', 257, 'ascii')
  return h
})()
const TEMPLATE_SUM = TEMPLATE.reduce((a, b) => a + b, 0)

/** Header of a regular file `name` (ASCII, at most 100 bytes) of `size` bytes, modified at `mtimeSec`. */
export function tarHeader(name: string, size: number, mtimeSec: number): Buffer {
  const h = Buffer.allocUnsafe(BLOCK)
  writeTarHeader(h, 0, name, size, mtimeSec)
  return h
}

/** tarHeader written into `h` at `at`. Built on TEMPLATE, summing only the fields that differ. */
function writeTarHeader(h: Buffer, at: number, name: string, size: number, mtimeSec: number): void {
  if (name.length === 0 || name.length > 100 || !/^[\x21-\x7e]+$/.test(name))
    throw new Error(`tar member name '${name}': 1 to 100 printable ASCII characters without spaces`)
  if (!Number.isSafeInteger(size) || size < 0 || size > MAX_MEMBER_BYTES)
    throw new Error(`tar member ${name}: size ${size} out of range`)
  TEMPLATE.copy(h, at)
  h.write(name, at, 'ascii')
  octal(h, at + 124, 12, size)
  octal(h, at + 136, 12, Math.max(0, Math.floor(mtimeSec)))
  let sum = TEMPLATE_SUM
  for (let i = at; i < at + name.length; i++) sum += h[i]
  for (let i = at + 124; i < at + 148; i++) sum += h[i]
  h.write(`${sum.toString(8).padStart(6, '0')}\x00 `, at + 148, 'ascii')
}

export interface TarInput {
  name: string
  /** Bytes, passed on as they are; or text (UTF-8), copied in beside the headers. */
  data: Uint8Array | string
}

/**
 * The pieces of a writev that appends `members` to an archive: headers, text data and padding go into one zeroed
 * buffer, byte data is passed by reference, so a run of members costs one allocation and, between two byte
 * members, one piece (a shard batch writes two pieces per frame: its JPEG, then the JPEG's padding, the .json
 * member and the next JPEG's header).
 */
export function tarMembers(members: readonly TarInput[], mtimeSec: number): Uint8Array[] {
  const sizes = members.map(({ data }) => (typeof data === 'string' ? Buffer.byteLength(data) : data.length))
  let restBytes = 0
  members.forEach(({ data }, i) => {
    restBytes += BLOCK + (typeof data === 'string' ? sizes[i] : 0) + paddingBytes(sizes[i])
  })
  const rest = Buffer.alloc(restBytes)
  const pieces: Uint8Array[] = []
  let from = 0
  let at = 0
  members.forEach(({ name, data }, i) => {
    writeTarHeader(rest, at, name, sizes[i], mtimeSec)
    at += BLOCK
    if (typeof data === 'string') {
      rest.write(data, at, 'utf8')
      at += sizes[i]
    } else {
      pieces.push(rest.subarray(from, at), data)
      from = at
    }
    at += paddingBytes(sizes[i])
  })
  pieces.push(rest.subarray(from, at))
  return pieces
}

/** Zero bytes that bring `size` bytes of data to a block boundary (a view of a shared buffer: do not write to it). */
export function padding(size: number): Buffer {
  return ZEROS.subarray(0, paddingBytes(size))
}

/** How many zero bytes bring `size` bytes of data to a block boundary. */
export function paddingBytes(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK
}

/** Bytes a member of `size` takes in the archive: header, data and padding. */
export function memberBytes(size: number): number {
  return BLOCK + Math.ceil(size / BLOCK) * BLOCK
}

export interface TarMember {
  name: string
  size: number
}

/**
 * Reads a header block: the member it describes, 'end' for a zero block (the end-of-archive marker), undefined
 * for anything else (a torn or damaged header: the archive's usable part ends before it).
 */
export function readTarHeader(block: Uint8Array): TarMember | 'end' | undefined {
  if (block.length < BLOCK) return undefined
  const h = Buffer.from(block.buffer, block.byteOffset, BLOCK)
  if (h.equals(ZEROS)) return 'end'
  let sum = 0
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i]
  const stored = Number.parseInt(h.toString('ascii', 148, 156).replace(/[\0 ]+$/, ''), 8)
  if (stored !== sum || h[156] !== 0x30) return undefined
  const size = Number.parseInt(h.toString('ascii', 124, 136).replace(/\0.*$/, ''), 8)
  const end = h.indexOf(0, 0)
  const name = h.toString('ascii', 0, end < 0 || end > 100 ? 100 : end)
  if (!Number.isSafeInteger(size) || size < 0 || name.length === 0) return undefined
  return { name, size }
}

function octal(h: Buffer, at: number, width: number, value: number): void {
  h.write(`${value.toString(8).padStart(width - 1, '0')}\x00`, at, 'ascii')
}
