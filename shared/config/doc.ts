/** Renders docs/config.md from the schema (`npm run docs:config`; a test keeps the committed file current). Pure. */
import { SCHEMA, MAX_PUSHED_TABLES, type KeySpec } from './schema'

function fmtDefault(s: KeySpec): string {
  if (s.type === 'tables') return '`{}`'
  if (s.default === null) return '`null`'
  if (s.default === '') return '""'
  return `\`${JSON.stringify(s.default)}\``
}

function fmtType(s: KeySpec): string {
  if (s.type === 'keepMap') return 'keep map object or `null`'
  if (s.type === 'enum') return s.values!.map((v) => `\`${v}\``).join(' \\| ')
  if (s.type === 'string') {
    const length = s.maxLength !== undefined ? ` ≤ ${s.maxLength} chars` : ''
    const pattern = s.pattern ? `, matching \`${s.pattern.regex.source.replace(/\|/g, '\\|')}\`` : ''
    return s.type + length + pattern
  }
  const range = s.min !== undefined ? ` ${s.min}..${s.max}` : ''
  return s.type + range
}

function fmtRemote(s: KeySpec): string {
  return s.remote ? 'yes' : `no (${s.localOnly})`
}

function fmtApplies(s: KeySpec): string {
  if (s.restart) return 'restart'
  return s.reopensSource ? 'live, reopens the source' : 'live'
}

export function renderConfigDoc(): string {
  const lines: string[] = [
    '# Agent configuration',
    '',
    '<!-- Generated from shared/config/schema.ts by `npm run docs:config`. Do not edit by hand. -->',
    '',
    '`deepn run --config FILE` reads a JSON file holding any subset of the keys below, nested by section:',
    '',
    '```json',
    '{ "deviceId": "cam-01", "mqtt": { "url": "mqtts://broker:8883", "ca": "/etc/deepn/ca.pem" }, "capture": { "source": "rpicam", "width": 1280, "height": 720 } }',
    '```',
    '',
    'Precedence (later wins): schema defaults → config file → environment → remote configuration persisted in',
    '`<buffer.path>.remote-config.json` (remote keys only). Every error names the offending key.',
    '',
    '**Environment**: the variables in the *Env* column, and `DEEPN__<SECTION>__<KEY>=value` for any key (matched',
    'case-insensitively, `_` ignored inside a part): `DEEPN__MQTT__MAX_PAYLOAD_BYTES=131072`, `DEEPN__DELIVERY=e2e-ack`.',
    '',
    '**Remote**: keys marked *yes* may be sent to `<prefix>/<deviceId>/config/set` as `{"id": "req-1", "config": {…}}`;',
    'they apply live and persist across restarts. The agent answers on `config/result` `{id, ok, error?, applied?}` and',
    'publishes the retained `config` `{version, config}` (secrets redacted). Commands, executables, file paths and',
    `credentials can never be set remotely. Messages larger than \`mqtt.maxConfigBytes\` are rejected unread. At most ${MAX_PUSHED_TABLES} pushed tables.`,
    'The agent uses a clean MQTT session, so publish `config/set` **retained** to reach a device that is offline: it',
    'is applied on the next connect, and a request that changes nothing is a no-op (the version stays).',
    '',
    'Keys marked *no* say why they are local only.',
    '',
    '**Applies**: `restart` keys are read at start-up only; `live` keys take effect at once (capture and encoder',
    'settings at the next frame); `live, reopens the source`: the camera is closed and opened again with the new',
    'setting between two frames (a camera process restarts).',
    '',
    '| Key | Type | Default | Remote | Applies | Env | Description |',
    '| --- | --- | --- | --- | --- | --- | --- |',
  ]
  for (const s of SCHEMA) {
    const doc = s.doc.replace(/\|/g, '\\|')
    lines.push(
      `| \`${s.key}\` | ${fmtType(s)} | ${fmtDefault(s)} | ${fmtRemote(s)} | ${fmtApplies(s)} | ${s.env ? `\`${s.env}\`` : ''} | ${doc} |`,
    )
  }
  lines.push('')
  return lines.join('\n')
}
