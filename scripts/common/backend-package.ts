/**
 * Backend-only packages (onnxruntime-web, sharp, TF.js and COCO-SSD for the detection benchmark) are optional peers: a device install (`--omit=dev`) leaves them
 * out, so the commands that need them say which package to install instead of failing with a require stack.
 */
export type BackendPackage =
  | 'onnxruntime-web'
  | 'sharp'
  | '@tensorflow/tfjs-core'
  | '@tensorflow/tfjs-converter'
  | '@tensorflow/tfjs-backend-wasm'
  | '@tensorflow-models/coco-ssd'

export class MissingPackageError extends Error {
  constructor(
    readonly pkg: BackendPackage,
    what: string,
  ) {
    super(`${what} needs the backend package '${pkg}', which this install leaves out: npm install ${pkg}`)
    this.name = 'MissingPackageError'
  }
}

/** `require(pkg)`, or a MissingPackageError naming it when it is not installed (other load errors pass through). */
export function loadBackendPackage<T>(pkg: BackendPackage, what: string): T {
  try {
    return require(pkg) as T
  } catch (err) {
    const e = err as NodeJS.ErrnoException
    if (e?.code === 'MODULE_NOT_FOUND' && e.message.includes(`'${pkg}'`)) throw new MissingPackageError(pkg, what)
    throw err
  }
}
