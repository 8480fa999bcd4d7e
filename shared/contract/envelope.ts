/**
 * One request/response envelope for every request topic (after zigbee2mqtt's `bridge/request/*` →
 * `bridge/response/*`). A request is a JSON object with an optional transaction `id` and the topic's own fields;
 * every request gets exactly one response per step, QoS 1:
 *   `{ "id": <the request's id or null>, "status": "ok", "data": {…} }` or
 *   `{ "id": …, "status": "error", "error": "<reason naming the field>" }`.
 * Responses also carry `ok` (status === 'ok') and, for `ok`, the fields of `data` at the top level: the shape
 * agents sent before the envelope existed, which backends may still read. Pure.
 */
import { ContractError, Fields, decodeJsonObject, describe, isPlainObject, type Payload } from './payload'

/** Longest request id; longer ones are refused (a response echoes the id). */
export const MAX_REQUEST_ID = 128

/** The request's `id` as echoed in its responses: a string (a numeric id as its decimal string), or null. */
export type RequestId = string | null

/** A refused request; `id` is the request's id when it could be read, so the response still correlates. */
export class RequestError extends ContractError {
  override name = 'RequestError'
  constructor(
    message: string,
    readonly id: RequestId,
    field?: string,
  ) {
    super(message, field)
  }
}

export interface RequestOptions {
  /** Largest accepted payload (the agent's `mqtt.maxConfigBytes`); larger ones are refused unread. */
  maxBytes: number
  /** The request's own fields, besides `id`. */
  fields: readonly string[]
}

export interface ParsedRequest {
  id: RequestId
  /** The request's fields (own properties only), for the topic's parser to check. */
  fields: Fields
}

const UTF8 = new TextEncoder()

/** Size, strict UTF-8 JSON object, `id`, no unknown field: the checks every request topic shares. */
export function parseRequest(payload: Payload, opts: RequestOptions): ParsedRequest {
  const size = typeof payload === 'string' ? UTF8.encode(payload).length : payload.length
  if (size > opts.maxBytes)
    throw new RequestError(`request is ${size} bytes; the limit is ${opts.maxBytes} (mqtt.maxConfigBytes)`, null)
  const shape = `{${['id', ...opts.fields].map((f) => `"${f}"`).join(', ')}}`
  let doc: Record<string, unknown>
  try {
    doc = decodeJsonObject(payload, shape)
  } catch (err) {
    throw new RequestError((err as Error).message, null)
  }
  const fields = new Fields(doc, '')
  const id = requestId(fields.get('id'))
  try {
    fields.only(['id', ...opts.fields])
  } catch (err) {
    throw new RequestError((err as ContractError).message, id, (err as ContractError).field)
  }
  return { id, fields }
}

function requestId(raw: unknown): RequestId {
  if (raw === undefined) return null
  if (typeof raw === 'string' && raw.length <= MAX_REQUEST_ID) return raw
  if (typeof raw === 'number' && Number.isFinite(raw)) return String(raw)
  throw new RequestError(
    `'id' must be a string of at most ${MAX_REQUEST_ID} characters or a number, got ${describe(raw)}`,
    null,
    'id',
  )
}

/** Runs a topic's field checks, turning their ContractError into a RequestError that keeps the id. */
export function withId<T>(id: RequestId, check: () => T): T {
  try {
    return check()
  } catch (err) {
    if (err instanceof ContractError && !(err instanceof RequestError))
      throw new RequestError(err.message, id, err.field)
    throw err
  }
}

export interface OkResponse<T> {
  id: RequestId
  status: 'ok'
  data: T
  ok: true
}
export interface ErrorResponse {
  id: RequestId
  status: 'error'
  error: string
  ok: false
}
export type Response<T> = OkResponse<T> | ErrorResponse

/** An `ok` response; `data`'s fields are repeated at the top level for backends written before the envelope. */
export function okResponse<T extends object>(id: RequestId, data: T): OkResponse<T> & T {
  return { id, status: 'ok', data, ok: true, ...data }
}

export function errorResponse(id: RequestId, error: string): ErrorResponse {
  return { id, status: 'error', error, ok: false }
}

/**
 * Reads a response's envelope; `data` is left for the topic's parser. Also reads the shape of agents before the
 * envelope (`{ id, ok, error?, …fields }`: the fields become `data`).
 */
export function parseResponse(payload: Payload, where: string): Response<Record<string, unknown>> {
  const doc = decodeJsonObject(payload, '{"id", "status", "data" | "error"}')
  const f = new Fields(doc, where)
  const id = f.get('id')
  if (id !== null && typeof id !== 'string') f.fail('id', 'a string or null')
  const status = f.has('status') ? f.oneOf('status', ['ok', 'error'] as const) : f.boolean('ok') ? 'ok' : 'error'
  if (f.has('ok') && f.boolean('ok') !== (status === 'ok'))
    f.fail('ok', `${status === 'ok'} when 'status' is '${status}'`)
  if (status === 'error') {
    if (!f.has('status') && !f.has('error')) return errorResponse(id as RequestId, 'no reason given') // an agent before the envelope
    return errorResponse(id as RequestId, f.string('error', { nonEmpty: true }))
  }
  let data: Record<string, unknown>
  if (f.has('status')) {
    data = f.object('data').doc
  } else {
    const { id: _id, ok: _ok, ...rest } = doc
    data = rest
  }
  if (!isPlainObject(data)) f.fail('data', 'an object')
  return { id: id as RequestId, status: 'ok', data, ok: true }
}
