/** Mosquitto set-ups the receiver tests need on top of the shared helper. */
import { chmodSync, mkdirSync } from 'node:fs'
import * as path from 'node:path'
import { startMosquitto, type Mosquitto } from '../../../helpers/mosquitto'

/**
 * Persistence keeps the receiver's session (and the frames queued for it) across a broker restart. Mosquitto
 * started as root drops to the `mosquitto` user, hence a world-writable store inside a traversable `dir`.
 */
export async function persistentMosquitto(dir: string): Promise<Mosquitto> {
  const store = path.join(dir, 'mosquitto-store')
  chmodSync(dir, 0o711)
  mkdirSync(store)
  chmodSync(store, 0o777)
  return startMosquitto({
    extraConfig: ['persistence true', `persistence_location ${store}/`, 'max_queued_messages 100000'],
  })
}
