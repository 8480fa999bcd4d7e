/**
 * Reading an ONNX model file with errors in the user's terms: "m.png is not an ONNX model (it is a PNG image)"
 * rather than a JSON or protobuf parser's message. Shared by `deepn eval`, `tables optimize` and the receiver.
 */
import { readFileSync } from 'node:fs'

/** The model's bytes; throws naming the file when it is missing or plainly not an ONNX model. */
export function readOnnxModel(modelPath: string): Uint8Array {
  let bytes: Buffer
  try {
    bytes = readFileSync(modelPath)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    throw new Error(`cannot read model ${modelPath}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : code ?? String(err)}`)
  }
  // An ONNX file is a protobuf ModelProto whose first field, as every exporter writes it, is ir_version (tag 0x08).
  if (bytes.length < 16 || bytes[0] !== 0x08) throw new Error(`${modelPath} is not an ONNX model (${whatItIs(bytes)})`)
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

/** onnxruntime's "Can't create a session. ERROR_CODE: 7, …" as one sentence naming the file. */
export function modelLoadError(modelPath: string, err: unknown): Error {
  const msg = err instanceof Error ? err.message : String(err)
  const detail = /protobuf parsing failed/i.test(msg) ? 'it does not parse as an ONNX protobuf'
    : (/ERROR_MESSAGE: (.*)$/s.exec(msg)?.[1] ?? msg).split('\n')[0].trim()
  return new Error(`${modelPath} is not an ONNX model onnxruntime-web can load: ${detail}`)
}

function whatItIs(bytes: Buffer): string {
  if (bytes.length === 0) return 'the file is empty'
  // loaded only on this error path: the receiver starts without the image decoders
  const { detectImageFormat } = require('../../agent/image-files/decode') as typeof import('../../agent/image-files/decode')
  const image = detectImageFormat(bytes)
  if (image) return `it is a ${image.toUpperCase()} image`
  const head = bytes.subarray(0, 64)
  if (head.every((b) => b === 9 || b === 10 || b === 13 || (b >= 32 && b < 127))) return 'it is a text file'
  return `${bytes.length} bytes of something else`
}
