/** A file that cannot be decoded. The message always starts with the format (or "image") and names the problem. */
export class ImageDecodeError extends Error {
  constructor(
    readonly format: string,
    problem: string,
    nameHint?: string,
  ) {
    super(`${format}${nameHint ? ` (${nameHint})` : ''}: ${problem}`)
    this.name = 'ImageDecodeError'
  }
}
