/** `deepn receive` command line → ReceiverOptions. Credentials come from files or the environment, never argv. */
import { choiceOption, numberOption, parseOptions, UsageError } from '../../../agent/cli-args'
import { groupNameProblem, type ReceiverOptions } from './receiver'
import { DEFAULT_PREFIX } from '../../../shared/contract/topics'
import { readFileSync } from 'node:fs'
import { BROKER_OPTION_SPECS, brokerOptions } from '../broker-options'
import { isLoopbackHost } from './dashboard'
import { LAYOUTS } from './frame-store'

export const USAGE = `usage: deepn receive [options]

Subscribes to <prefix>/+/frames and writes every frame once to <out>/<deviceId>/<YYYY-MM-DD>/<seq>.jpg,
with <out>/<deviceId>/index.jsonl (seq, capturedAt, tableId, quantDigest, bytes, receivedAt, width, height, file).

  --url URL             broker (default $DEEPN_MQTT_URL or mqtt://localhost:1883)
  --prefix P            topic prefix (default ${DEFAULT_PREFIX})
  --out DIR             dataset folder (default ./dataset)
  --layout L            folders (default): a JPEG file per frame, as above; shards: frames appended to tar
                        shards <out>/<deviceId>/shards/NNNNNN.tar (members <seq>.jpg and <seq>.json, the
                        WebDataset layout), index lines with the shard as file and the frame's offset in it;
                        no file per frame, several times the frames/s. Not with --group
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
  --http HOST:PORT      serve a live dashboard (devices, state, last frame, frames/s, backlog, gaps,
                        table) on http://HOST:PORT/; a bare PORT binds 127.0.0.1. Another host than a
                        loopback one needs a token
  --http-token-file F   the dashboard's token (first line of F), or $DEEPN_HTTP_TOKEN, or
  --http-token T        (visible in ps); every request must then carry it: Authorization: Bearer T or ?token=T
  -h, --help            this text`

export { UsageError }

export interface HttpOptions {
  host: string
  port: number
  token?: string
}

/** The command line: the receiver's options, and the dashboard's when --http is given. */
export interface ReceiveArgs extends ReceiverOptions {
  http?: HttpOptions
}

/** `PORT`, `HOST:PORT` or `[IPv6]:PORT` → host and port; a bare port is 127.0.0.1. */
export function parseHttpAddress(s: string): { host: string; port: number } {
  const m = /^(?:(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):)?(\d{1,5})$/.exec(s)
  const port = m ? Number(m[2]) : Number.NaN
  if (!m || port > 65535)
    throw new UsageError(`--http: expected PORT or HOST:PORT (port 0..65535, IPv6 as [::1]:PORT), got '${s}'`)
  return { host: m[1] ? m[1].replace(/^\[(.*)\]$/, '$1') : '127.0.0.1', port }
}

export function parseReceiveArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): ReceiveArgs | 'help' {
  const parsed = parseOptions({
    args: argv,
    allowPositionals: false,
    options: {
      ...BROKER_OPTION_SPECS,
      out: { type: 'string' },
      layout: { type: 'string' },
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
      http: { type: 'string' },
      'http-token': { type: 'string' },
      'http-token-file': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  })
  const v = parsed.values
  if (v.help) return 'help'
  const protocol = choiceOption('--protocol', v.protocol, ['auto', '5', '3.1.1'] as const) ?? 'auto'
  const opts: ReceiveArgs = {
    ...brokerOptions(v, env),
    out: v.out ?? 'dataset',
    layout: choiceOption('--layout', v.layout, LAYOUTS) ?? 'folders',
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
    if (opts.layout === 'shards')
      throw new UsageError('--layout shards does not support --group yet; use --layout folders')
    opts.group = v.group
  }
  if (v['http-token'] !== undefined && v['http-token-file'] !== undefined)
    throw new UsageError('give --http-token or --http-token-file, not both')
  const token = v['http-token'] ?? readToken(v['http-token-file']) ?? (env.DEEPN_HTTP_TOKEN || undefined)
  if (token !== undefined && token.length < 8)
    throw new UsageError(
      'the dashboard token must be at least 8 characters (--http-token, --http-token-file or $DEEPN_HTTP_TOKEN)',
    )
  if (v.http !== undefined) {
    const addr = parseHttpAddress(v.http)
    if (!isLoopbackHost(addr.host) && token === undefined)
      throw new UsageError(
        `--http ${v.http}: a dashboard on a non-loopback host needs a token (--http-token-file, $DEEPN_HTTP_TOKEN or --http-token)`,
      )
    opts.http = { ...addr, token }
    opts.live = true
  } else if (v['http-token'] !== undefined || v['http-token-file'] !== undefined) {
    throw new UsageError('--http-token and --http-token-file need --http')
  }
  return opts
}

/** The dashboard token from --http-token-file (first line). */
function readToken(file: string | undefined): string | undefined {
  if (file === undefined) return undefined
  try {
    return readFileSync(file, 'utf8').split(/\r?\n/)[0]
  } catch (err) {
    throw new UsageError(
      `--http-token-file: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
    )
  }
}
