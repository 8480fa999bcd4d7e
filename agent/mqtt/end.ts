import type { MqttClient } from 'mqtt'

/**
 * Clean MQTT disconnect with a deadline. mqtt.js's `end(false)` waits until every outgoing QoS 1 publish is
 * acknowledged, and a second `end(true)` is ignored while it waits; when the socket is stalled (an unacknowledged
 * incoming message, a dead broker) that wait never ends and the socket stays open, keeping the process alive.
 * Past the deadline the socket is destroyed instead.
 */
export function endClient(client: MqttClient, graceMs: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      client.stream?.destroy()
      resolve()
    }, graceMs)
    client.end(false, {}, () => {
      clearTimeout(timer)
      resolve()
    })
  })
}
