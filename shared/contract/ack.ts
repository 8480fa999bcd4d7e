/** `ack` (receiver → agent, end-to-end delivery): `{ seq }`, every frame through `seq` is durably stored. Pure. */
import { Fields, decodeJsonObject, type Payload } from './payload'

export interface AckMessage {
  seq: number
}

export function buildAck(seq: number): string {
  return JSON.stringify({ seq } satisfies AckMessage)
}

/** Throws ContractError naming what is wrong (`{"seq": <integer ≥ 0>}` expected). */
export function parseAck(payload: Payload): AckMessage {
  const f = new Fields(decodeJsonObject(payload, '{"seq": <integer>}'), 'ack ')
  return { seq: f.integer('seq') }
}
