/**
 * A TCP proxy in front of a real broker that holds back the PUBACKs of chosen publishes until the test releases
 * them, so "awaiting PUBACK" is exactly what the client sees. Splits the byte streams into MQTT packets with just
 * the fixed header (type + remaining-length varint); everything else passes through byte for byte.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net'

export interface HeldAck {
  /** The held publish, whole (fixed header, topic, properties, payload). */
  publish: Buffer
  release(): void
}

/** Splits complete packets off `buf`; returns them and the incomplete rest. */
function split(buf: Buffer): { packets: Buffer[]; rest: Buffer } {
  const packets: Buffer[] = []
  let at = 0
  for (;;) {
    let len = 0,
      mul = 1,
      i = at + 1
    for (; i < buf.length; i++) {
      len += (buf[i] & 0x7f) * mul
      mul *= 128
      if (!(buf[i] & 0x80)) break
    }
    if (i >= buf.length || i + 1 + len > buf.length) break
    packets.push(buf.subarray(at, i + 1 + len))
    at = i + 1 + len
  }
  return { packets, rest: buf.subarray(at) }
}

/** Variable header offset of a packet: after the type byte and the remaining-length varint. */
const bodyAt = (p: Buffer): number => {
  let i = 1
  while (p[i] & 0x80) i++
  return i + 1
}

/** Packet id of a QoS 1/2 PUBLISH (after its topic), or of a PUBACK. */
function packetId(p: Buffer): number {
  const b = bodyAt(p)
  if (p[0] >> 4 === 4) return p.readUInt16BE(b)
  return p.readUInt16BE(b + 2 + p.readUInt16BE(b))
}

export async function startPubackGate(
  brokerPort: number,
  hold: (topic: string) => boolean,
): Promise<{ port: number; held: HeldAck[]; close(): Promise<void> }> {
  const held: HeldAck[] = []
  const sockets = new Set<Socket>()
  const server: Server = createServer((client) => {
    const upstream = createConnection(brokerPort, '127.0.0.1')
    sockets.add(client).add(upstream)
    const pending = new Map<number, Buffer>() // packet id → the publish whose PUBACK is to be held
    let up = Buffer.alloc(0)
    let down = Buffer.alloc(0)
    client.on('data', (chunk: Buffer) => {
      upstream.write(chunk)
      const s = split(Buffer.concat([up, chunk]))
      up = Buffer.from(s.rest)
      for (const p of s.packets) {
        if (p[0] >> 4 !== 3 || ((p[0] >> 1) & 3) === 0) continue // QoS 1/2 PUBLISH only
        const b = bodyAt(p)
        const topic = p.toString('utf8', b + 2, b + 2 + p.readUInt16BE(b))
        if (hold(topic)) pending.set(packetId(p), Buffer.from(p))
      }
    })
    upstream.on('data', (chunk: Buffer) => {
      const s = split(Buffer.concat([down, chunk]))
      down = Buffer.from(s.rest)
      for (const p of s.packets) {
        const publish = p[0] >> 4 === 4 ? pending.get(packetId(p)) : undefined
        if (!publish) {
          client.write(p)
          continue
        }
        pending.delete(packetId(p))
        const ack = Buffer.from(p)
        held.push({
          publish,
          release: () => {
            if (!client.destroyed) client.write(ack)
          },
        })
      }
    })
    const end = () => {
      client.destroy()
      upstream.destroy()
    }
    client.on('close', end).on('error', end)
    upstream.on('close', end).on('error', end)
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return {
    port: (server.address() as { port: number }).port,
    held,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy()
        server.close(() => r())
      }),
  }
}
