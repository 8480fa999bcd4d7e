/** Test-side JPEG surgery on header segments (SOI up to SOS), built on the codec's own segment walker. */
import { walkJpeg } from '../../shared/codec/segments'

/** The file with each header segment replaced by what `edit(marker, payload)` returns (none drops it). */
export function rewriteHeader(
  jpeg: Uint8Array,
  edit: (marker: number, payload: Uint8Array) => Array<[number, Uint8Array]>,
): Uint8Array {
  const parts: Uint8Array[] = [jpeg.subarray(0, 2)]
  const scanAt = walkJpeg(
    jpeg,
    {
      segment(marker, start, end) {
        for (const [m, p] of edit(marker, jpeg.subarray(start, end)))
          parts.push(Uint8Array.of(0xff, m, (p.length + 2) >> 8, (p.length + 2) & 0xff), p)
      },
    },
    { headerOnly: true },
  )
  parts.push(jpeg.subarray(scanAt))
  return new Uint8Array(Buffer.concat(parts))
}

/** The file without its header segments of type `marker`. */
export function stripSegment(jpeg: Uint8Array, marker: number): Buffer {
  return Buffer.from(rewriteHeader(jpeg, (m, p) => (m === marker ? [] : [[m, p]])))
}
