/**
 * Classifies frames with any ONNX image classifier taking one NCHW float input (opened by loadOnnxModel).
 * The input shape comes from the model; the first output is read as class scores
 * (softmax applied unless they already are probabilities).
 */
import { promises as fsp } from 'node:fs'
import * as path from 'node:path'
import type * as Ort from 'onnxruntime-web'
import { loadOnnxModel } from '../../common/onnx-model'
import { jpegToNchw, type InputShape } from './image-input'

export interface Classification {
  /** Class name from the labels file, else the class index as a string. */
  label: string
  index: number
  score: number
  inferenceMs: number
}

export interface Classifier {
  readonly model: string
  readonly input: InputShape
  classify(jpeg: Uint8Array): Promise<Classification>
  close(): Promise<void>
}

/**
 * Labels: `labelsFile` (JSON array of strings, or one label per line), else next to the model the first of
 * `<model>.labels.json`, `<model>.labels.txt`, or the sidecar `<model>.json` with a `classes` array (the format
 * the shipped models in config/models use), else class indices.
 */
export async function loadClassifier(modelFile: string, labelsFile?: string): Promise<Classifier> {
  // onnxruntime-web is loaded only here: it is needed only with --model (an optional peer, absent from a device install).
  const { ort, session } = await loadOnnxModel(modelFile, { what: '--model' })
  const input = inputShapeOf(session, modelFile)
  const labels = await loadLabels(modelFile, labelsFile)
  const inputName = session.inputNames[0]
  const outputName = session.outputNames[0]
  const dims = [1, input.channels, input.height, input.width]
  return {
    model: path.basename(modelFile),
    input,
    async classify(jpeg) {
      const data = jpegToNchw(jpeg, input)
      const t0 = performance.now()
      const out = await session.run({ [inputName]: new ort.Tensor('float32', data, dims) })
      const inferenceMs = performance.now() - t0
      const scores = toProbabilities(Array.from(out[outputName].data as Float32Array))
      let index = 0
      for (let k = 1; k < scores.length; k++) if (scores[k] > scores[index]) index = k
      return { label: labels?.[index] ?? String(index), index, score: scores[index], inferenceMs }
    },
    async close() {
      await session.release()
    },
  }
}

function inputShapeOf(session: Ort.InferenceSession, modelFile: string): InputShape {
  if (session.inputNames.length !== 1)
    throw new Error(
      `model ${modelFile} has ${session.inputNames.length} inputs; an image classifier with one NCHW input is expected`,
    )
  const meta = session.inputMetadata[0]
  if (!meta.isTensor || meta.type !== 'float32')
    throw new Error(`model ${modelFile}: input '${meta.name}' must be a float32 tensor`)
  const shape = meta.shape
  if (shape.length !== 4)
    throw new Error(
      `model ${modelFile}: input '${meta.name}' has shape [${shape.join(',')}]; NCHW (4 dimensions) expected`,
    )
  const [, c, h, w] = shape
  if (typeof h !== 'number' || typeof w !== 'number' || h <= 0 || w <= 0)
    throw new Error(
      `model ${modelFile}: input '${meta.name}' must have a fixed height and width, got [${shape.join(',')}]`,
    )
  if (c !== 1 && c !== 3)
    throw new Error(`model ${modelFile}: input '${meta.name}' has ${String(c)} channels; 1 (gray) or 3 (RGB) expected`)
  return { channels: c, height: h, width: w }
}

async function loadLabels(modelFile: string, labelsFile: string | undefined): Promise<string[] | undefined> {
  const base = modelFile.replace(/\.onnx$/i, '')
  const candidates = labelsFile ? [labelsFile] : [`${base}.labels.json`, `${base}.labels.txt`, `${base}.json`]
  for (const file of candidates) {
    let text: string
    try {
      text = await fsp.readFile(file, 'utf8')
    } catch (err) {
      if (labelsFile) throw new Error(`cannot read labels ${file}: ${(err as Error).message}`)
      continue
    }
    if (!file.endsWith('.json'))
      return text
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l.length > 0)
    let v: unknown
    try {
      v = JSON.parse(text)
    } catch (err) {
      throw new Error(`labels ${file} is not JSON: ${(err as Error).message}`)
    }
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) v = (v as { classes?: unknown }).classes
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string'))
      throw new Error(`labels ${file} must be a JSON array of strings (or an object with one in "classes")`)
    return v
  }
  return undefined
}

function toProbabilities(x: number[]): number[] {
  const isProb = x.every((v) => v >= 0 && v <= 1) && Math.abs(x.reduce((a, b) => a + b, 0) - 1) < 1e-3
  if (isProb) return x
  const m = Math.max(...x)
  const e = x.map((v) => Math.exp(v - m))
  const s = e.reduce((a, b) => a + b, 0)
  return e.map((v) => v / s)
}
