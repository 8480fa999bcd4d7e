/** A test-side MQTT 5 subscriber that records messages and can wait for a condition. */
import mqtt, { type MqttClient } from 'mqtt'

export interface Received {
  topic: string
  payload: Buffer
  retain: boolean
  properties?: { contentType?: string; userProperties?: Record<string, string | string[]> }
}

export interface Subscriber {
  client: MqttClient
  messages: Received[]
  on(topicSuffix: string): Received[]
  waitFor(pred: () => boolean, ms?: number, what?: string): Promise<void>
  close(): Promise<void>
}

/**
 * `persistent`: a fixed client id with a session that outlives disconnects (MQTT 5 session expiry), so QoS 1
 * messages published while the subscriber is away (e.g. across a broker restart with persistence) are not missed.
 */
export async function subscribe(
  url: string,
  topics: string[],
  opts: { protocolVersion?: 4 | 5; persistent?: boolean } = {},
): Promise<Subscriber> {
  const protocolVersion = opts.protocolVersion ?? 5
  const persistent = opts.persistent
    ? {
        clientId: `sub-${Math.random().toString(16).slice(2)}`,
        clean: false,
        properties: { sessionExpiryInterval: 3600 },
      }
    : {}
  const client = await mqtt.connectAsync(url, { protocolVersion, reconnectPeriod: 200, ...persistent })
  const messages: Received[] = []
  client.on('message', (topic, payload, packet) =>
    messages.push({ topic, payload, retain: packet.retain, properties: packet.properties as Received['properties'] }),
  )
  client.on('connect', () => {
    client.subscribe(topics, { qos: 1 })
  })
  await client.subscribeAsync(topics, { qos: 1 })
  return {
    client,
    messages,
    on: (suffix) => messages.filter((m) => m.topic.endsWith(`/${suffix}`)),
    waitFor: async (pred, ms = 30000, what = 'condition') => {
      const deadline = Date.now() + ms
      while (!pred()) {
        if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
        await new Promise((r) => setTimeout(r, 50))
      }
    },
    close: () => client.endAsync(true),
  }
}
