/** `deepn receive` command line → ReceiverOptions. Credentials come from files or the environment, never argv. */
import { choiceOption, numberOption, parseOptions, UsageError } from '../../../agent/cli-args'
import { groupNameProblem, type ReceiverOptions } from './receiver'
import { DEFAULT_PREFIX } from '../../../shared/contract/topics'
import { BROKER_OPTION_SPECS, brokerOptions } from '../broker-options'

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
  --client-id ID        persistent session id (default deepn-receiver-<hostname>, with --group
                        deepn-receiver-<hostname>-<group>); one per receiver, kept across restarts
  --group NAME          share the frames with the other receivers of group NAME (MQTT shared
                        subscription $share/NAME/<prefix>/+/frames): run each with its own --client-id
                        and the same --out; NAME may not contain '/', '+' or '#'
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
      ...BROKER_OPTION_SPECS,
      out: { type: 'string' },
      model: { type: 'string' },
      labels: { type: 'string' },
      ack: { type: 'boolean' },
      'ack-interval': { type: 'string' },
      'ack-every': { type: 'string' },
      'client-id': { type: 'string' },
      group: { type: 'string' },
      'session-expiry': { type: 'string' },
      protocol: { type: 'string' },
      decode: { type: 'boolean' },
      summary: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  })
  const v = parsed.values
  if (v.help) return 'help'
  const protocol = choiceOption('--protocol', v.protocol, ['auto', '5', '3.1.1'] as const) ?? 'auto'
  const opts: ReceiverOptions = {
    ...brokerOptions(v, env),
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
  }
  if (v.labels && !v.model) throw new UsageError('--labels needs --model')
  if (v.group !== undefined) {
    const problem = groupNameProblem(v.group)
    if (problem) throw new UsageError(`--group: ${problem}`)
    opts.group = v.group
  }
  return opts
}
