/**
 * Labelled image sets for the evaluation: Fashion-MNIST IDX files (Debian's dataset-fashion-mnist) or a folder
 * `<dir>/<label>/*.png|jpg`. Images come back as tightly packed gray or RGB bytes.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { decodeImageFile as decodeImage } from '../../agent/image-files/decode'
import { parseIdx } from '../../shared/deepn/idx'

export const FMNIST_DIR = '/usr/share/datasets/fashion-mnist'
export const FMNIST_CLASSES = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
]

export interface LabelledSet {
  name: string
  width: number
  height: number
  channels: 1 | 3
  count: number
  /** count * height * width * channels bytes. */
  pixels: Uint8Array
  labels: Int32Array
  classes: string[]
}

export function image(set: LabelledSet, i: number): Uint8Array {
  const per = set.width * set.height * set.channels
  return set.pixels.subarray(i * per, (i + 1) * per)
}

/** First `limit` images of a subset; the IDX test split is ordered arbitrarily, so the prefix is a fair sample. */
export function take(set: LabelledSet, limit: number): LabelledSet {
  if (limit >= set.count) return set
  const per = set.width * set.height * set.channels
  return {
    ...set,
    name: `${set.name}[0:${limit}]`,
    count: limit,
    pixels: set.pixels.subarray(0, limit * per),
    labels: set.labels.subarray(0, limit),
  }
}

export function loadFashionMnist(split: 'train' | 'test', dir = FMNIST_DIR): LabelledSet {
  const prefix = split === 'train' ? 'train' : 't10k'
  const imgPath = join(dir, `${prefix}-images-idx3-ubyte.gz`)
  const lblPath = join(dir, `${prefix}-labels-idx1-ubyte.gz`)
  for (const p of [imgPath, lblPath])
    if (!existsSync(p)) throw new Error(`${p} not found: install Debian's dataset-fashion-mnist or pass --data-dir`)
  const imgs = parseIdx(gunzipSync(readFileSync(imgPath)))
  const lbls = parseIdx(gunzipSync(readFileSync(lblPath)))
  if (imgs.dims.length !== 3 || lbls.dims.length !== 1 || imgs.dims[0] !== lbls.dims[0]) {
    throw new Error(`Fashion-MNIST ${split}: images ${imgs.dims.join('x')} do not match labels ${lbls.dims.join('x')}`)
  }
  return {
    name: `fashion-mnist ${split}`,
    count: imgs.dims[0],
    height: imgs.dims[1],
    width: imgs.dims[2],
    channels: 1,
    pixels: imgs.data,
    labels: Int32Array.from(lbls.data),
    classes: FMNIST_CLASSES,
  }
}

/**
 * Decodes an image file with the agent's decoder (format by magic bytes, corrupt input refused) to packed gray
 * (channels 1, ITU-R 601 luma as before) or RGB (channels 3).
 */
export function decodeImageFile(path: string, channels: 1 | 3): { width: number; height: number; data: Uint8Array } {
  const img = decodeImage(readFileSync(path), path)
  const n = img.width * img.height
  const src = img.data
  const inChannels = img.format === 'gray' ? 1 : img.format === 'rgba' ? 4 : 3
  if (img.format === 'yuv420p') throw new Error(`${path}: unexpected planar YUV image`)
  if (inChannels === channels) return { width: img.width, height: img.height, data: src }
  const data = new Uint8Array(n * channels)
  for (let i = 0; i < n; i++) {
    const p = i * inChannels
    if (channels === 3) {
      data[3 * i] = data[3 * i + 1] = data[3 * i + 2] = src[p]
    } // gray → RGB
    else if (inChannels === 1) data[i] = src[p]
    else data[i] = Math.round(0.299 * src[p] + 0.587 * src[p + 1] + 0.114 * src[p + 2])
  }
  return { width: img.width, height: img.height, data }
}

/** Fashion-MNIST (`data` absent or 'fmnist', IDX files in `dataDir`) or a labelled folder sized for the model. */
export function loadLabelledSet(
  data: string | undefined,
  split: 'train' | 'test',
  dataDir: string | undefined,
  info: { width: number; height: number; channels: 1 | 3; classes: string[] },
): LabelledSet {
  return !data || data === 'fmnist'
    ? loadFashionMnist(split, dataDir)
    : loadFolder(data, { width: info.width, height: info.height, channels: info.channels, classes: info.classes })
}

/**
 * Which class a label folder means: its name (with '/' written as '-', since 'T-shirt/top' cannot be a folder
 * name) or its class index. Throws for a folder that names no class, rather than silently mislabelling.
 */
export function classIndex(folder: string, classes: string[]): number {
  const byName = classes.findIndex((c) => c === folder || c.replace(/\//g, '-') === folder)
  if (byName >= 0) return byName
  if (/^\d+$/.test(folder) && Number(folder) < classes.length) return Number(folder)
  throw new Error(
    `label folder '${folder}' is not one of the model's classes (${classes.join(', ')}) nor a class index`,
  )
}

/**
 * `<dir>/<label>/*.png|jpg`. Labels map to `classes` (the model's) by name or index; without `classes`, the sorted
 * folder names are the classes. Every image must have the model's size.
 */
export function loadFolder(
  dir: string,
  opts: { width: number; height: number; channels: 1 | 3; classes?: string[] },
): LabelledSet {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new Error(`dataset folder ${dir} does not exist`)
  const folders = readdirSync(dir)
    .filter((d) => statSync(join(dir, d)).isDirectory())
    .sort()
  const classes = opts.classes ?? folders
  const per = opts.width * opts.height * opts.channels
  const chunks: Uint8Array[] = []
  const labels: number[] = []
  for (const folder of folders) {
    const ci = classIndex(folder, classes)
    const sub = join(dir, folder)
    for (const f of readdirSync(sub)
      .filter((f) => /\.(png|jpe?g)$/i.test(f))
      .sort()) {
      const img = decodeImageFile(join(sub, f), opts.channels)
      if (img.width !== opts.width || img.height !== opts.height) {
        throw new Error(`${join(sub, f)} is ${img.width}x${img.height}; the model expects ${opts.width}x${opts.height}`)
      }
      chunks.push(img.data)
      labels.push(ci)
    }
  }
  if (labels.length === 0) throw new Error(`no labelled images in ${dir} (expected <dir>/<label>/*.png|jpg)`)
  const pixels = new Uint8Array(labels.length * per)
  chunks.forEach((c, i) => pixels.set(c, i * per))
  return {
    name: dir,
    width: opts.width,
    height: opts.height,
    channels: opts.channels,
    count: labels.length,
    pixels,
    labels: Int32Array.from(labels),
    classes,
  }
}
