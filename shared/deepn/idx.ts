/**
 * IDX format reader (MNIST / Fashion-MNIST): big-endian magic 0x0000TTNN (TT type, NN dimension count), NN
 * big-endian uint32 sizes, then the data. Pure: takes the already-gunzipped bytes.
 */
export interface IdxArray {
  dims: number[]
  data: Uint8Array
}

export function parseIdx(buf: Uint8Array): IdxArray {
  if (buf.length < 4) throw new Error(`IDX data too short: ${buf.length} bytes, need at least the 4-byte magic`)
  if (buf[0] !== 0 || buf[1] !== 0)
    throw new Error('not an IDX file: the magic must start with two zero bytes (gunzip it first?)')
  if (buf[2] !== 0x08)
    throw new Error(`unsupported IDX element type 0x${buf[2].toString(16)}: only unsigned bytes (0x08) are supported`)
  const ndim = buf[3]
  if (ndim < 1) throw new Error('IDX file declares zero dimensions')
  const head = 4 + 4 * ndim
  if (buf.length < head)
    throw new Error(`IDX header truncated: ${ndim} dimensions need ${head} bytes, got ${buf.length}`)
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
  const dims: number[] = []
  for (let i = 0; i < ndim; i++) dims.push(view.getUint32(4 + 4 * i))
  const size = dims.reduce((a, b) => a * b, 1)
  if (buf.length - head !== size)
    throw new Error(`IDX payload is ${buf.length - head} bytes but dimensions ${dims.join('x')} need ${size}`)
  return { dims, data: buf.subarray(head) }
}
