/** `deepn receive` command line → ReceiverOptions. Credentials come from files or the environment, never argv. */
import { readFileSync } from 'node:fs'
import { DEFAULT_PREFIX } from '../../../shared/contract/topics'
import { choiceOption, numberOption, parseOptions, UsageError } from '../../../agent/cli-args'
import type { ReceiverOptions } from './receiver'

export const USAGE = `usage: deepn receive [options]

Subscribes to <prefix>/+/frames and writes every frame once to <out>/<deviceId>/<YYYY-MM-DD>/<seq>.jpg,
with <out>/<deviceId>/index.jsonl (seq, capturedAt, tableId, quantDigest, bytes, receivedAt, width, height, file).

  --url URL             broker (default $DEEPN_MQTT_URL or mqtt://localhost:1883)
  --prefix P            topic prefix (default ${DEFAULT_PREFIX})
  --out DIR             dataset folder (default ./dataset)
  --model FILE.onnx     classify each new frame, publish {seq,label,score,...} on <prefix>/<deviceId>/results
  --labels FILE         class names: JSON array or one per line (default: <model>.labels.json|txt, or
                        the "classes" of the model's sidecar <model>.json, when present)
  --ack                 publish {seq} on <prefix>/<deviceId>/ack: every seq through it is on disk (fsynced)
  --ack-interval MS     longest delay before an ack (default 500)
  --ack-every N         ack at once after N frames (default 50)
  --client-id ID        persistent session id (default deepn-receiver-<hostname>); one per receiver
  --session-expiry S    how long the broker queues frames while we are down, MQTT 5 (default 604800 = 7 days)
  --protocol V          auto | 5 | 3.1.1 (default auto: MQTT 5, falling back to 3.1.1)
  --ca FILE --cert FILE --key FILE    TLS files (PEM)
  --insecure            TLS: accept a broker certificate that does not verify
  --username U          or $DEEPN_MQTT_USERNAME
  --password-file FILE  or $DEEPN_MQTT_PASSWORD_FILE, or the password in $DEEPN_MQTT_PASSWORD
  --decode              fully decode every frame with libjpeg-turbo (sharp; jpeg-js without it)
                        and refuse one that does not decode cleanly (default: structure check only)
  --summary S           print a summary every S seconds on stderr (default 10; 0 = only at exit)
  -h, --help            this text`

export { UsageError }

export function parseReceiveArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): ReceiverOptions | 'help' {
  const parsed = parseOptions({
    args: argv,
    allowPositionals: false,
    options: {
      url: { type: 'string' },
      prefix: { type: 'string' },
      out: { type: 'string' },
      model: { type: 'string' },
      labels: { type: 'string' },
      ack: { type: 'boolean' },
      'ack-interval': { type: 'string' },
      'ack-every': { type: 'string' },
      'client-id': { type: 'string' },
      'session-expiry': { type: 'string' },
      protocol: { type: 'string' },
      ca: { type: 'string' },
      cert: { type: 'string' },
      key: { type: 'string' },
      insecure: { type: 'boolean' },
      username: { type: 'string' },
      'password-file': { type: 'string' },
      decode: { type: 'boolean' },
      summary: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  })
  const v = parsed.values
  if (v.help) return 'help'
  const protocol = choiceOption('--protocol', v.protocol, ['auto', '5', '3.1.1'] as const) ?? 'auto'
  const prefix = v.prefix ?? DEFAULT_PREFIX
  if (!prefix || /[#+]/.test(prefix) || prefix.endsWith('/'))
    throw new UsageError(`--prefix '${prefix}' must be a non-empty topic without wildcards or a trailing /`)
  const opts: ReceiverOptions = {
    url: v.url ?? env.DEEPN_MQTT_URL ?? 'mqtt://localhost:1883',
    prefix,
    out: v.out ?? 'dataset',
    model: v.model,
    labels: v.labels,
    ack: v.ack ?? false,
    ackIntervalMs: numberOption('--ack-interval', v['ack-interval'], { integer: true, min: 10 }) ?? 500,
    ackEveryFrames: numberOption('--ack-every', v['ack-every'], { integer: true, min: 1 }) ?? 50,
    clientId: v['client-id'],
    sessionExpirySec: numberOption('--session-expiry', v['session-expiry'], { integer: true, min: 0 }) ?? 7 * 24 * 3600,
    protocol,
    decode: v.decode ?? false,
    summaryIntervalMs: (numberOption('--summary', v.summary, { integer: true, min: 0 }) ?? 10) * 1000,
    username: v.username ?? env.DEEPN_MQTT_USERNAME,
    password: password(v['password-file'] ?? env.DEEPN_MQTT_PASSWORD_FILE, env.DEEPN_MQTT_PASSWORD),
  }
  if (v.ca || v.cert || v.key || v.insecure)
    opts.tls = { ca: v.ca, cert: v.cert, key: v.key, rejectUnauthorized: !v.insecure }
  if (v.labels && !v.model) throw new UsageError('--labels needs --model')
  return opts
}

/** The password from --password-file (first line) or the inline environment value; never from argv. */
export function password(file: string | undefined, inline: string | undefined): string | undefined {
  if (file) {
    try {
      return readFileSync(file, 'utf8').replace(/\r?\n$/, '')
    } catch (err) {
      throw new UsageError(
        `--password-file: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
      )
    }
  }
  return inline || undefined
}
