/**
 * Letterboxing for the square-input detectors (CenterNet, NanoDet), as their authors feed them: one scale for both
 * axes so the frame fits, the scaled frame centred, black padding around it; boxes map back through the same
 * rounded geometry.
 */
import type { RawImage } from '../../shared/codec/types'
import type { Tf } from './tfjs-wasm'

export interface Letterbox {
  input: number
  /** The frame's size once scaled, and where it sits in the square. */
  nw: number
  nh: number
  dx: number
  dy: number
  /** The exact scales of the rounded size, to map boxes back. */
  sx: number
  sy: number
}

export function letterboxGeometry(width: number, height: number, input: number): Letterbox {
  const s = Math.min(input / width, input / height)
  const nw = Math.round(width * s)
  const nh = Math.round(height * s)
  return {
    input,
    nw,
    nh,
    dx: Math.floor((input - nw) / 2),
    dy: Math.floor((input - nh) / 2),
    sx: nw / width,
    sy: nh / height,
  }
}

/** The RGB frame as a float32 [input, input, 3] tensor (0..255), letterboxed. Call inside `tf.tidy`. */
export function letterboxTensor(tf: Tf, img: RawImage, g: Letterbox): import('@tensorflow/tfjs-core').Tensor3D {
  const frame = tf.cast(tf.tensor3d(img.data, [img.height, img.width, 3], 'int32'), 'float32')
  const scaled = tf.image.resizeBilinear(frame, [g.nh, g.nw], false, true)
  return tf.pad(scaled, [
    [g.dy, g.input - g.nh - g.dy],
    [g.dx, g.input - g.nw - g.dx],
    [0, 0],
  ])
}

/** A box [x1, y1, x2, y2] in the square's pixels back to the frame's, clamped to the frame. */
export function unletterbox(
  g: Letterbox,
  width: number,
  height: number,
  x1: number,
  y1: number,
  x2: number,
  y2: number,
): [number, number, number, number] {
  const x = (v: number) => Math.max(0, Math.min(width, (v - g.dx) / g.sx))
  const y = (v: number) => Math.max(0, Math.min(height, (v - g.dy) / g.sy))
  return [x(x1), y(y1), x(x2), y(y2)]
}
