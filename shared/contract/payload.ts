/**
 * Payload decoding and field checks shared by every message parser. JSON payloads are UTF-8 and decoded strictly:
 * a byte sequence that is not UTF-8 is refused, never turned into U+FFFD and then trusted. Pure.
 */

/** A message refused by a parser; `field` names what is wrong when one field is (`'seq'`, `'lost.from'`). */
export class ContractError extends Error {
  override name = 'ContractError'
  constructor(
    message: string,
    readonly field?: string,
  ) {
    super(message)
  }
}

export type Payload = Uint8Array | string

const utf8 = new TextDecoder('utf-8', { fatal: true })

/** UTF-8 text of a payload; throws ContractError when the bytes are not UTF-8. */
export function decodeText(payload: Payload): string {
  if (typeof payload === 'string') return payload
  try {
    return utf8.decode(payload)
  } catch {
    throw new ContractError('not UTF-8 JSON: the bytes are not valid UTF-8')
  }
}

/** The JSON value of a payload; throws ContractError `not UTF-8 JSON: …`. */
export function decodeJson(payload: Payload): unknown {
  const text = decodeText(payload)
  try {
    return JSON.parse(text)
  } catch (err) {
    throw new ContractError(`not UTF-8 JSON: ${err instanceof Error ? err.message : String(err)}`)
  }
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** The JSON object of a payload; `shape` describes the expected object in the error. */
export function decodeJsonObject(payload: Payload, shape: string): Record<string, unknown> {
  const doc = decodeJson(payload)
  if (!isPlainObject(doc)) throw new ContractError(`expected a JSON object ${shape}, got ${describe(doc)}`)
  return doc
}

/** A short description of a value for error messages. */
export function describe(v: unknown): string {
  if (v === null) return 'null'
  if (v === undefined) return 'nothing'
  if (Array.isArray(v)) return 'an array'
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)
  if (typeof v === 'object') return 'an object'
  return String(v)
}

/** Field checks: each throws ContractError naming `where` + the field, or returns the value typed. */
export class Fields {
  /**
   * `where` starts every error (e.g. `loss event `); `path` is the dotted path of a nested object (`lost.`);
   * `quote` puts field names in quotes (`'seq' must be …`; frame metadata says `metadata seq must be …`).
   */
  constructor(
    readonly doc: Record<string, unknown>,
    private readonly where: string,
    private readonly path = '',
    private readonly quote = true,
  ) {}

  private name(name: string): string {
    return this.quote ? `'${this.path}${name}'` : this.path + name
  }

  fail(name: string, want: string): never {
    throw new ContractError(
      `${this.where}${this.name(name)} must be ${want}, got ${describe(this.get(name))}`,
      this.path + name,
    )
  }

  /** Own properties only: a payload's `constructor` is a field like any other, never Object.prototype's. */
  get(name: string): unknown {
    return Object.hasOwn(this.doc, name) ? this.doc[name] : undefined
  }

  has(name: string): boolean {
    return this.get(name) !== undefined
  }

  /** `check(name)` when the field is present, undefined when it is absent: `f.optional('since', f.time)`. */
  optional<T>(name: string, check: (name: string) => T): T | undefined {
    return this.has(name) ? check.call(this, name) : undefined
  }

  /** Refuses fields outside `allowed`. */
  only(allowed: readonly string[]): void {
    const extra = Object.keys(this.doc).find((k) => !allowed.includes(k))
    if (extra !== undefined)
      throw new ContractError(
        `${this.where}unknown field '${this.path}${extra}' (expected ${allowed.join(', ')})`,
        this.path + extra,
      )
  }

  string(name: string, opts: { nonEmpty?: boolean; max?: number } = {}): string {
    const v = this.get(name)
    if (typeof v !== 'string' || (opts.nonEmpty && !v) || (opts.max !== undefined && v.length > opts.max)) {
      this.fail(
        name,
        `a${opts.nonEmpty ? ' non-empty' : ''} string${opts.max !== undefined ? ` of at most ${opts.max} characters` : ''}`,
      )
    }
    return v
  }

  /** An ISO date-time string. */
  time(name: string): string {
    const v = this.get(name)
    if (typeof v !== 'string' || Number.isNaN(Date.parse(v))) this.fail(name, 'an ISO date-time string')
    return v
  }

  /** A safe integer in [min, max]. */
  integer(name: string, min = 0, opts: { max?: number } = {}): number {
    const v = this.get(name)
    const max = opts.max ?? Number.MAX_SAFE_INTEGER
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
      this.fail(
        name,
        min === 0 && max === Number.MAX_SAFE_INTEGER
          ? 'a non-negative integer'
          : min === 1 && max === Number.MAX_SAFE_INTEGER
            ? 'a positive integer'
            : `an integer ${min}..${max}`,
      )
    }
    return v
  }

  /** A finite number. */
  number(name: string): number {
    const v = this.get(name)
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(name, 'a number')
    return v
  }

  boolean(name: string): boolean {
    const v = this.get(name)
    if (typeof v !== 'boolean') this.fail(name, 'true or false')
    return v
  }

  oneOf<T extends string>(name: string, values: readonly T[]): T {
    const v = this.get(name)
    if (typeof v !== 'string' || !(values as readonly string[]).includes(v))
      this.fail(name, `one of ${values.map((x) => `'${x}'`).join(', ')}`)
    return v as T
  }

  /** A nested object, checked with its own Fields (errors say `<where><name>.<field>`). */
  object(name: string): Fields {
    const v = this.get(name)
    if (!isPlainObject(v)) this.fail(name, 'an object')
    return new Fields(v, this.where, `${this.path}${name}.`, this.quote)
  }
}
