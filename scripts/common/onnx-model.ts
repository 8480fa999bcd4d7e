/**
 * The one way the backend tools open an ONNX model (`deepn eval`, `tables optimize`, the receiver's --model):
 * onnxruntime-web on one wasm thread (deterministic, and it shares a Pi's cores politely), with errors in the
 * user's terms: "cannot read model m.onnx: no such file", "m.png is not an ONNX model (it is a PNG image)", or
 * the one-line "npm install onnxruntime-web" when the optional peer is not installed.
 */
import { readFileSync } from 'node:fs'
import type * as Ort from 'onnxruntime-web'
import { loadBackendPackage } from './backend-package'

export interface OnnxModel<Sidecar = undefined> {
  /** The runtime module, for building input tensors. */
  readonly ort: typeof Ort
  readonly session: Ort.InferenceSession
  /** What `readSidecar` returned. */
  readonly sidecar: Sidecar
}

export interface OnnxModelOptions<Sidecar> {
  /** Names the feature in the missing-package message ("--model needs the backend package …"). */
  what?: string
  /**
   * Reads what the model file does not say (its input contract, labels); run once the file looks like a model and
   * before the runtime starts, so a bad path is reported before a bad sidecar, and both before a missing package.
   */
  readSidecar?: (modelPath: string) => Sidecar
}

/** Opens `modelPath`; every failure is one Error naming the file (or the package to install). */
export async function loadOnnxModel<Sidecar = undefined>(
  modelPath: string,
  opts: OnnxModelOptions<Sidecar> = {},
): Promise<OnnxModel<Sidecar>> {
  const bytes = readOnnxModel(modelPath)
  const sidecar = opts.readSidecar?.(modelPath) as Sidecar
  const ort = loadBackendPackage<typeof Ort>('onnxruntime-web', opts.what ?? 'running an ONNX model')
  ort.env.wasm.numThreads = 1 // threaded wasm needs workers; one thread is deterministic
  try {
    return { ort, session: await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] }), sidecar }
  } catch (err) {
    throw modelLoadError(modelPath, err)
  }
}

/** The model's bytes; throws naming the file when it is missing or plainly not an ONNX model. */
function readOnnxModel(modelPath: string): Uint8Array {
  let bytes: Buffer
  try {
    bytes = readFileSync(modelPath)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    throw new Error(
      `cannot read model ${modelPath}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (code ?? String(err))}`,
    )
  }
  // An ONNX file is a protobuf ModelProto whose first field, as every exporter writes it, is ir_version (tag 0x08).
  if (bytes.length < 16 || bytes[0] !== 0x08) throw new Error(`${modelPath} is not an ONNX model (${whatItIs(bytes)})`)
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

/** onnxruntime's "Can't create a session. ERROR_CODE: 7, …" as one sentence naming the file. */
function modelLoadError(modelPath: string, err: unknown): Error {
  const msg = err instanceof Error ? err.message : String(err)
  const detail = /protobuf parsing failed/i.test(msg)
    ? 'it does not parse as an ONNX protobuf'
    : (/ERROR_MESSAGE: (.*)$/s.exec(msg)?.[1] ?? msg).split('\n')[0].trim()
  return new Error(`${modelPath} is not an ONNX model onnxruntime-web can load: ${detail}`)
}

function whatItIs(bytes: Buffer): string {
  if (bytes.length === 0) return 'the file is empty'
  // loaded only on this error path: the receiver starts without the image decoders
  const { detectImageFormat } =
    require('../../agent/image-files/decode') as typeof import('../../agent/image-files/decode')
  const image = detectImageFormat(bytes)
  if (image) return `it is a ${image.toUpperCase()} image`
  const head = bytes.subarray(0, 64)
  if (head.every((b) => b === 9 || b === 10 || b === 13 || (b >= 32 && b < 127))) return 'it is a text file'
  return `${bytes.length} bytes of something else`
}
