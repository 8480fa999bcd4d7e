/**
 * `events/loss` (agent → backend, retained, QoS 1): frames lost to buffer damage found at start-up, and seqs
 * never used, so a backend stops waiting for them. Pure.
 */
import { deviceIdProblem } from './ids'
import { ContractError, Fields, decodeJsonObject, type Payload } from './payload'

export const LOSS_CAUSES = ['corrupt-database', 'database-lost', 'power-loss'] as const

/** An inclusive seq range. */
export interface SeqSpan {
  from: number
  to: number
}

/** What the agent knows it lost at start-up. No seq below `resumesAt` missing at the backend will come. */
export interface BufferLossMessage {
  deviceId: string
  /** When the damage was found (ISO time). */
  at: string
  /** `corrupt-database`: the file failed its check and was moved aside; `database-lost`: the file has no record of
   * seqs the sidecar says were used (deleted, replaced, or its -wal truncated); `power-loss`: an unclean end on an
   * earlier boot under synchronous=NORMAL, whose last commits may be gone. */
  cause: (typeof LOSS_CAUSES)[number]
  detail: string
  /** Buffered (unacknowledged) frames that are gone for good; `frames` of them existed in the range. */
  lost?: SeqSpan & { frames: number }
  /** Seqs that were lost or never used: the agent cannot tell which; either way they will not come. */
  unknown?: SeqSpan
  /** Seqs never given to a frame (the rest of the sidecar's lease block). */
  skipped?: SeqSpan
  /** The first seq of the fresh buffer. */
  resumesAt: number
  /** Where the damaged files were moved (never deleted). */
  movedTo?: string[]
}

export function buildLossMessage(m: BufferLossMessage): string {
  return JSON.stringify(m)
}

/** Validates an `events/loss` payload published under `deviceId`'s topic; throws ContractError with the reason. */
export function parseLossMessage(deviceId: string, payload: Payload): BufferLossMessage {
  const doc = decodeJsonObject(payload, '{"deviceId", "at", "cause", …}')
  const f = new Fields(doc, 'loss event ')
  const m: BufferLossMessage = {
    deviceId: f.string('deviceId'),
    at: '',
    cause: 'corrupt-database',
    detail: '',
    resumesAt: 0,
  }
  const idProblem = deviceIdProblem(m.deviceId)
  if (idProblem) throw new ContractError(`loss event deviceId: ${idProblem}`, 'deviceId')
  if (m.deviceId !== deviceId)
    throw new ContractError(`loss event deviceId '${m.deviceId}' differs from the topic's '${deviceId}'`, 'deviceId')
  m.at = f.time('at')
  if (!(LOSS_CAUSES as readonly unknown[]).includes(f.get('cause')))
    throw new ContractError(
      `loss event has an unknown cause '${String(f.get('cause'))}' (expected ${LOSS_CAUSES.join(', ')})`,
      'cause',
    )
  m.cause = f.get('cause') as BufferLossMessage['cause']
  m.detail = f.string('detail')
  for (const kind of ['lost', 'unknown', 'skipped'] as const) {
    const v = f.get(kind)
    if (v === undefined) continue
    const s = v as Partial<SeqSpan>
    if (
      typeof s !== 'object' ||
      s === null ||
      !Number.isSafeInteger(s.from) ||
      !Number.isSafeInteger(s.to) ||
      s.from! < 0 ||
      s.to! < s.from!
    ) {
      throw new ContractError(`loss event '${kind}' must be {from, to} with integers 0 <= from <= to`, kind)
    }
    const span: SeqSpan = { from: s.from!, to: s.to! }
    if (kind === 'lost') m.lost = { ...span, frames: f.object('lost').integer('frames') }
    else m[kind] = span
  }
  m.resumesAt = f.integer('resumesAt', 1)
  if (f.has('movedTo')) {
    const moved = f.get('movedTo')
    if (!Array.isArray(moved) || !moved.every((p) => typeof p === 'string')) f.fail('movedTo', 'an array of paths')
    m.movedTo = moved as string[]
  }
  return m
}
