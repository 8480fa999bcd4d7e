/**
 * The agent's settings schema: the ONE place that defines every key, its type, default, limits, documentation,
 * whether a backend may set it over MQTT (`remote`, or why not), whether changing it needs a restart or reopens
 * the camera. Validation (shared/config/validate.ts), docs (docs/config.md via shared/config/doc.ts), defaults,
 * the remote-config allow-list, the capture loop's reopen rule and the `AgentConfig` type (types.ts) are all
 * derived from this list. Pure: no I/O.
 */
import { isPrototypeName } from './own-keys'
import { DEVICE_ID_PATTERN, DEVICE_ID_RULE, TABLE_ID_PATTERN, TABLE_ID_RULE } from '../contract/ids'

/** Topic levels a prefix may hold: no MQTT wildcard, no NUL. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is what MQTT forbids in a topic
const TOPIC_LEVELS = /^[^#+\u0000]+$/

/** An id rule that also accepts '' (the key's "not set" value: hostname, quality tables). */
const orEmpty = (id: RegExp): RegExp => new RegExp(`^(?:${id.source.slice(1, -1)})?$`)

export type KeyType = 'string' | 'integer' | 'number' | 'boolean' | 'enum' | 'tables' | 'keepMap'

interface KeyRules {
  /** Dotted path, e.g. `mqtt.url`. */
  key: string
  type: KeyType
  /** `null` only for a `keepMap` key: no map. */
  default: string | number | boolean | Record<string, unknown> | null
  doc: string
  /** Takes effect only after the agent restarts (local config only; remote keys always apply live). */
  restart?: boolean
  /** A change closes the capture source and opens it again with the new settings, between two frames. */
  reopensSource?: boolean
  /** Never echoed in the reported config or logs. */
  secret?: boolean
  min?: number
  max?: number
  values?: readonly string[]
  /** Longest accepted string. */
  maxLength?: number
  /** What a string value must look like (shown in the docs); a value that does not match is refused with `'<key>' <message>`. */
  pattern?: { regex: RegExp; message: string }
  /** A rule on a string value a regex cannot say: returns what is wrong (read as `'<key>' <result>`), or undefined. */
  check?: (value: string) => string | undefined
  /** Dedicated environment variable (besides the generic `DEEPN__SECTION__KEY`). */
  env?: string
}

/**
 * Settable through `config/set`, or not and why: the reason is shown in the docs and in the refusal. Commands,
 * executables, file paths and credentials are never remote.
 */
type RemoteRule = { remote: true } | { remote: false; localOnly: string }

export type KeySpec = KeyRules & RemoteRule

/** Reasons a key is local only (`localOnly`). */
const CREDENTIAL = 'credential'
const FILE_PATH = 'file path'
const CONNECTION = 'connection setting: a wrong one would cut the device off'
const LOCAL = 'local configuration only'

const MB = 1024 * 1024

const SPECS = [
  {
    key: 'deviceId',
    type: 'string',
    default: '',
    remote: false,
    localOnly: 'device identity: it names the topics',
    restart: true,
    maxLength: 64,
    env: 'DEEPN_DEVICE_ID',
    pattern: {
      regex: orEmpty(DEVICE_ID_PATTERN),
      message: `may only contain letters, digits, '.', '_' and '-', and must not start with '.' or '-' (the protocol's device-id rule: ${DEVICE_ID_RULE})`,
    },
    doc: "Device id used in topics and frame metadata; empty = the hostname. The protocol's device-id rule (docs/protocol.md): 1..64 letters, digits, `.`, `_`, `-`, not starting with `.` or `-`.",
  },
  {
    key: 'delivery',
    type: 'enum',
    default: 'puback',
    values: ['puback', 'e2e-ack'],
    remote: true,
    doc: '`puback`: a frame leaves the buffer when the broker acknowledges it (QoS 1). `e2e-ack`: it stays until the receiver publishes `<prefix>/<deviceId>/ack` `{seq}` with a seq at or past it.',
  },
  {
    key: 'ackTimeoutMs',
    type: 'integer',
    default: 30000,
    min: 1000,
    max: 3600000,
    remote: true,
    doc: 'e2e-ack mode: re-send unacknowledged frames when no ack progress arrives for this long (the wait doubles per re-send without progress, up to 16x).',
  },

  {
    key: 'mqtt.url',
    type: 'string',
    default: '',
    remote: false,
    localOnly: CONNECTION,
    restart: true,
    maxLength: 1024,
    env: 'DEEPN_MQTT_URL',
    doc: 'Broker URL (`mqtt://host:1883`, `mqtts://host:8883`, `ws://…`). `deepn run` requires it; `deepn demo` starts an in-process broker when empty.',
  },
  {
    key: 'mqtt.protocol',
    type: 'enum',
    default: 'auto',
    values: ['auto', '5', '3.1.1'],
    remote: false,
    localOnly: CONNECTION,
    restart: true,
    doc: '`auto` tries MQTT 5 and falls back to 3.1.1 when the broker refuses the protocol version.',
  },
  {
    key: 'mqtt.prefix',
    type: 'string',
    default: 'deepn',
    remote: false,
    localOnly: CONNECTION,
    restart: true,
    maxLength: 128,
    pattern: { regex: TOPIC_LEVELS, message: 'must be non-empty without MQTT wildcards' },
    doc: 'Topic prefix: topics are `<prefix>/<deviceId>/<leaf>`.',
  },
  {
    key: 'mqtt.clientId',
    type: 'string',
    default: '',
    remote: false,
    localOnly: CONNECTION,
    restart: true,
    maxLength: 128,
    doc: 'MQTT client id; empty = `deepn-<deviceId>`.',
  },
  {
    key: 'mqtt.username',
    type: 'string',
    default: '',
    remote: false,
    localOnly: CREDENTIAL,
    restart: true,
    maxLength: 256,
    env: 'DEEPN_MQTT_USERNAME',
    doc: 'Username, if the broker wants one.',
  },
  {
    key: 'mqtt.password',
    type: 'string',
    default: '',
    remote: false,
    localOnly: CREDENTIAL,
    restart: true,
    secret: true,
    maxLength: 4096,
    env: 'DEEPN_MQTT_PASSWORD',
    doc: 'Password. Prefer `mqtt.passwordFile` or the environment over writing it into the config file.',
  },
  {
    key: 'mqtt.passwordFile',
    type: 'string',
    default: '',
    remote: false,
    localOnly: FILE_PATH,
    restart: true,
    maxLength: 4096,
    env: 'DEEPN_MQTT_PASSWORD_FILE',
    doc: 'File holding the password (trailing newline ignored), e.g. a systemd credential.',
  },
  {
    key: 'mqtt.ca',
    type: 'string',
    default: '',
    remote: false,
    localOnly: FILE_PATH,
    restart: true,
    maxLength: 4096,
    doc: 'TLS: CA certificate file (PEM) to trust for the broker.',
  },
  {
    key: 'mqtt.cert',
    type: 'string',
    default: '',
    remote: false,
    localOnly: FILE_PATH,
    restart: true,
    maxLength: 4096,
    doc: 'TLS: client certificate file (PEM).',
  },
  {
    key: 'mqtt.key',
    type: 'string',
    default: '',
    remote: false,
    localOnly: FILE_PATH,
    restart: true,
    maxLength: 4096,
    doc: 'TLS: client private key file (PEM).',
  },
  {
    key: 'mqtt.rejectUnauthorized',
    type: 'boolean',
    default: true,
    remote: false,
    localOnly: 'TLS security',
    restart: true,
    doc: 'TLS: refuse brokers whose certificate does not verify.',
  },
  {
    key: 'mqtt.keepaliveSec',
    type: 'integer',
    default: 30,
    min: 5,
    max: 3600,
    remote: false,
    localOnly: CONNECTION,
    restart: true,
    doc: 'MQTT keepalive.',
  },
  {
    key: 'mqtt.connectTimeoutMs',
    type: 'integer',
    default: 15000,
    min: 1000,
    max: 300000,
    remote: false,
    localOnly: CONNECTION,
    restart: true,
    doc: 'Give up a connection attempt after this long.',
  },
  {
    key: 'mqtt.reconnectMinMs',
    type: 'integer',
    default: 500,
    min: 50,
    max: 600000,
    remote: true,
    doc: 'First reconnect delay; doubles per failed attempt (with ±50 % jitter) up to `mqtt.reconnectMaxMs`.',
  },
  {
    key: 'mqtt.reconnectMaxMs',
    type: 'integer',
    default: 60000,
    min: 100,
    max: 3600000,
    remote: true,
    doc: 'Reconnect delay cap.',
  },
  {
    key: 'mqtt.inflight',
    type: 'integer',
    default: 8,
    min: 1,
    max: 256,
    remote: true,
    doc: 'Frames published but not yet PUBACKed at any time (bounded in-flight window).',
  },
  {
    key: 'mqtt.maxPayloadBytes',
    type: 'integer',
    default: 0,
    min: 0,
    max: 256 * MB,
    remote: true,
    doc: "Largest frame payload (JPEG with metadata) to publish; 0 = only the broker's CONNACK `maximumPacketSize` (MQTT 5) applies. Bigger frames are re-encoded with coarser tables or set aside (counted in telemetry). E.g. 131072 for AWS IoT Core.",
  },
  {
    key: 'mqtt.maxConfigBytes',
    type: 'integer',
    default: 65536,
    min: 1024,
    max: 4 * MB,
    remote: false,
    localOnly: 'it limits remote configuration itself',
    doc: 'Largest accepted `config/set` payload; bigger messages are rejected unread.',
  },

  {
    key: 'capture.source',
    type: 'enum',
    default: 'synthetic',
    values: ['synthetic', 'files', 'raspistill', 'rpicam'],
    reopensSource: true,
    remote: true,
    doc: 'Camera: `synthetic` test pattern, `files` (replay `capture.filesDir`), `raspistill` (legacy stack), `rpicam` (rpicam-apps / libcamera).',
  },
  {
    key: 'capture.width',
    type: 'integer',
    default: 640,
    min: 16,
    max: 8192,
    reopensSource: true,
    remote: true,
    doc: 'Frame width in pixels.',
  },
  {
    key: 'capture.height',
    type: 'integer',
    default: 480,
    min: 16,
    max: 8192,
    reopensSource: true,
    remote: true,
    doc: 'Frame height in pixels.',
  },
  {
    key: 'capture.intervalMs',
    type: 'integer',
    default: 1000,
    min: 0,
    max: 86400000,
    remote: true,
    doc: 'Time between capture starts; 0 = as fast as the camera and encoder go.',
  },
  {
    key: 'capture.timeoutMs',
    type: 'integer',
    default: 15000,
    min: 100,
    max: 600000,
    reopensSource: true,
    remote: true,
    doc: 'A capture that takes longer is aborted and counted as an error.',
  },
  {
    key: 'capture.retryMinMs',
    type: 'integer',
    default: 500,
    min: 10,
    max: 600000,
    remote: true,
    doc: 'Delay after a failed capture; doubles per consecutive failure up to `capture.retryMaxMs`.',
  },
  {
    key: 'capture.retryMaxMs',
    type: 'integer',
    default: 30000,
    min: 10,
    max: 3600000,
    remote: true,
    doc: 'Capture retry delay cap.',
  },
  {
    key: 'capture.filesDir',
    type: 'string',
    default: '',
    reopensSource: true,
    remote: false,
    localOnly: FILE_PATH,
    restart: true,
    maxLength: 4096,
    doc: '`files` source: folder of images replayed in name order.',
  },
  {
    key: 'capture.filesLoop',
    type: 'boolean',
    default: true,
    reopensSource: true,
    remote: true,
    doc: '`files` source: start over after the last image.',
  },
  {
    key: 'capture.rpicamMode',
    type: 'enum',
    default: 'still',
    values: ['still', 'vid'],
    reopensSource: true,
    remote: true,
    doc: '`rpicam` source: one `rpicam-still` per frame, or a long-running `rpicam-vid --codec yuv420` stream.',
  },
  {
    key: 'capture.rpicamFramerate',
    type: 'integer',
    default: 5,
    min: 1,
    max: 120,
    reopensSource: true,
    remote: true,
    doc: '`rpicam` source, `vid` mode: frames per second the stream runs at (the agent takes the newest frame each interval).',
  },
  {
    key: 'capture.rpicamStride',
    type: 'integer',
    default: 0,
    min: 0,
    max: 16384,
    reopensSource: true,
    remote: true,
    doc: "`rpicam` source: Y-plane row stride in bytes of the raw frames; 0 = read it from rpicam-vid's output or derive it from the frame size.",
  },
  {
    key: 'capture.warmupMs',
    type: 'integer',
    default: 1000,
    min: 0,
    max: 60000,
    reopensSource: true,
    remote: true,
    doc: '`raspistill` / `rpicam-still`: time the camera runs before each still (`-t`), for exposure and white balance to settle.',
  },
  {
    key: 'capture.maxFrames',
    type: 'integer',
    default: 0,
    min: 0,
    max: 2 ** 31 - 1,
    remote: false,
    localOnly: LOCAL,
    restart: true,
    doc: 'Stop capturing after this many frames (0 = never); the agent keeps publishing the backlog. For tests and back-filling.',
  },
  {
    key: 'capture.memoryBudgetMB',
    type: 'integer',
    default: 0,
    min: 0,
    max: 1024 * 1024,
    remote: false,
    localOnly: "the device's own memory limit: remote configuration must not be able to raise it",
    doc:
      "Frame memory budget in MiB; 0 = half the device's memory (RAM, or the cgroup limit such as the systemd unit's `MemoryMax` when smaller; the reported config shows the value in force). " +
      'A remote change whose frame memory estimate passes it (and grows it) is refused with the estimate and what to lower; a local configuration over it only logs a warning at start. ' +
      "The estimate (agent/pipeline/frame-memory.ts) is an upper one, per frame at the finest tables: the raw frame as the source holds it (bytes per pixel: `synthetic` 3, `rpicam` 4.5, `raspistill` 9, `files` 10, where the images' own size counts), " +
      "the encoder's row buffers (211 B per pixel column, plus 2 MB) and, with `encoder.optimizeHuffman` or `encoder.progressive`, every coefficient (2 B per sample; samples = pixels x 1.5 at 4:2:0, x 3 at 4:4:4), " +
      "3x the JPEG while encoding (J = 0.6 B per sample) and `mqtt.inflight` x 2 JPEGs held until PUBACK (capped by `mqtt.maxPayloadBytes`). The agent's own baseline (about 40-60 MB) is not part of it.",
  },

  {
    key: 'encoder.table',
    type: 'string',
    default: 'natural-deepn',
    remote: true,
    maxLength: 64,
    pattern: { regex: orEmpty(TABLE_ID_PATTERN), message: `must be a table id (${TABLE_ID_RULE})` },
    check: (id) =>
      isPrototypeName(id)
        ? `cannot be '${id}': that names a built-in JavaScript object member, not a table; choose another id`
        : undefined,
    doc: 'Quantization table id: a table pushed in `encoder.tables` or a file `<encoder.tablesDir>/<id>.json` (shipped: `natural-deepn` for camera photos, `vtest-ssd` tuned for a COCO-SSD detector on a fixed street camera, best with `encoder.optimizeHuffman`, `vtest-joint` tuned for COCO-SSD and CenterNet together, `vtest-joint-person-car` the same holding people and cars each to the target, `vtest-deepn`, `fmnist-deepn`). Empty = IJG `encoder.quality`. When the table carries a trained `huffman` set, frames are entropy-coded with it instead of the Annex K Huffman tables (also when scaled by `encoder.scale` or to fit the payload limit), unless `encoder.optimizeHuffman` is on.',
  },
  {
    key: 'encoder.tables',
    type: 'tables',
    default: {},
    remote: true,
    doc: 'Tables pushed with the config: `{ "<id>": { "luma": [64 ints], "chroma": [64 ints], "huffman"?: { "lumaDc", "lumaAc", "chromaDc"?, "chromaAc"? } } }`, validated like table files (a `huffman` set must be complete: every baseline symbol coded). At most 16; a table with a Huffman set is about 2 KB of JSON.',
  },
  {
    key: 'encoder.tablesDir',
    type: 'string',
    default: '',
    remote: false,
    localOnly: FILE_PATH,
    restart: true,
    maxLength: 4096,
    doc: "Folder of table files (`<id>.json`); empty = the tables shipped in the package's `config/tables/`.",
  },
  {
    key: 'encoder.scale',
    type: 'number',
    default: 1,
    min: 0.05,
    max: 32,
    remote: true,
    doc: 'Multiplies every table entry (clamped to 1..255): > 1 is coarser and smaller.',
  },
  {
    key: 'encoder.quality',
    type: 'integer',
    default: 75,
    min: 1,
    max: 100,
    remote: true,
    doc: 'IJG quality of the Annex K tables, used when `encoder.table` is empty.',
  },
  {
    key: 'encoder.subsampling',
    type: 'enum',
    default: '420',
    values: ['420', '444'],
    reopensSource: true,
    remote: true,
    doc: 'Chroma subsampling. The synthetic camera then draws I420 for 4:2:0 and RGB for 4:4:4.',
  },
  {
    key: 'encoder.optimizeHuffman',
    type: 'boolean',
    default: false,
    remote: true,
    doc: "Two-pass optimal Huffman tables: a few % smaller, about twice the entropy-coding time. When true, these per-frame tables win over a table's trained `huffman` set, which is then not used.",
  },
  {
    key: 'encoder.progressive',
    type: 'boolean',
    default: false,
    remote: true,
    doc: "Progressive JPEG (SOF2) with spectral-selection scans: the DC of every component, then one AC scan per component, each with per-frame optimal Huffman tables (so `encoder.optimizeHuffman` is implied and a table's trained `huffman` set is not used). Same coefficients and pixels as baseline; a run of blocks without AC costs one code, so with DC-only cells of `encoder.keepMap` frames are smaller than with `encoder.optimizeHuffman` (18-22 % on vtest.avi with every block DC-only), without a map about 1 % larger. Every mainstream decoder reads it (libjpeg-turbo, browsers, sharp, jpeg-js); some hardware and embedded decoders read only baseline. Costs a second pass over the frame's coefficients, no more than `encoder.optimizeHuffman` does (1080p 4:2:0: 8-14 ms a frame against 13-16 ms, single-pass baseline 4 ms), and holds them all like it (see `capture.memoryBudgetMB`).",
  },

  {
    key: 'encoder.keepMap',
    type: 'keepMap',
    default: null,
    remote: true,
    doc: 'Importance map (issue 12): `{ "id", "cols", "rows", "levels", "keep" }`, a `cols` x `rows` grid (1..256 each) over the frame, any resolution; `levels` holds one digit per cell (row-major), an index into `keep`, whose entries (0..64, at most 10) say how many zig-zag coefficients the blocks of such a cell keep: 1 = DC only, 64 = all, 0 = none (a blank mid-grey block: for cells the model never needs, where even the DC costs bytes). `id` follows the table-id rule; frames encoded with the map carry it in their metadata (`keepMap`). The cells where something moves (see `encoder.motionThreshold`) are raised to `encoder.motionKeep`. `null` = every block keeps everything. A 256x256 map is 64 KB of `levels`, within `mqtt.maxConfigBytes` only if that is raised.',
  },
  {
    key: 'encoder.motionKeep',
    type: 'integer',
    default: 64,
    min: 0,
    max: 64,
    remote: true,
    doc: 'With `encoder.keepMap`: coefficients kept in a cell where something moves (and its 8 neighbours), when the map keeps fewer there; motion never lowers a cell. 0 = motion raises nothing.',
  },
  {
    key: 'encoder.motionThreshold',
    type: 'integer',
    default: 10,
    min: 1,
    max: 255,
    remote: true,
    doc: 'With `encoder.keepMap`: an 8x8 block moves when its mean luma differs from its running background (an average over the recent frames, 5 % per frame) by more than this many levels. The background starts over when the frame size changes.',
  },

  {
    key: 'buffer.path',
    type: 'string',
    default: 'deepn-buffer.db',
    remote: false,
    localOnly: FILE_PATH,
    restart: true,
    maxLength: 4096,
    doc: 'SQLite file of the durable frame buffer.',
  },
  {
    key: 'buffer.maxBytes',
    type: 'integer',
    default: 256 * MB,
    min: 0,
    max: 2 ** 50,
    remote: true,
    doc: 'Buffer cap in JPEG bytes; 0 = unbounded.',
  },
  {
    key: 'buffer.maxFrames',
    type: 'integer',
    default: 0,
    min: 0,
    max: 2 ** 40,
    remote: true,
    doc: 'Buffer cap in frames; 0 = unbounded.',
  },
  {
    key: 'buffer.policy',
    type: 'enum',
    default: 'drop-oldest',
    values: ['drop-oldest', 'reject-new'],
    remote: true,
    doc: 'What a full buffer does with a new frame.',
  },
  {
    key: 'buffer.ttlSec',
    type: 'integer',
    default: 0,
    min: 0,
    max: 2 ** 31 - 1,
    remote: true,
    doc: 'Frames older than this are expired unsent; 0 = never.',
  },
  {
    key: 'buffer.minFreePercent',
    type: 'number',
    default: 5,
    min: 0,
    max: 50,
    remote: false,
    localOnly: LOCAL,
    restart: true,
    doc: "Free space to keep on the buffer's filesystem, in % of its size; below it `buffer.policy` applies as if the buffer were full and `status` says `degraded`. A fraction, not a fixed size, so it fits a 3 MB tmpfs (150 KB) as well as an SD card (1.6 GB of 32 GB, like ext4's reserved blocks); it must stay above the WAL bound (1/32 of the filesystem, ≤ 4 MB), so SQLite never meets a really full disk. 0 = off.",
  },
  {
    key: 'buffer.synchronous',
    type: 'enum',
    default: 'NORMAL',
    values: ['NORMAL', 'FULL'],
    remote: false,
    localOnly: LOCAL,
    restart: true,
    doc: 'SQLite `synchronous` (WAL): NORMAL survives crashes and is SD-card friendly; FULL also survives power loss of the last commit.',
  },

  {
    key: 'telemetry.intervalMs',
    type: 'integer',
    default: 30000,
    min: 1000,
    max: 86400000,
    remote: true,
    doc: 'Period of the `telemetry` message.',
  },
  {
    key: 'homeassistant.enabled',
    type: 'boolean',
    default: false,
    remote: true,
    doc: 'Home Assistant MQTT discovery: announce this agent (retained, under `homeassistant.prefix`) as a device with a camera showing `frames`, sensors for frames/s, bytes per frame, backlog, dropped and refused frames, memory and the table in use, and a binary sensor for `status` `degraded`; available while `status` is not `offline`. Turning it off (live, or in the local config before a restart) clears every config topic it announced, which removes the entities. docs/protocol.md lists the topics.',
  },
  {
    key: 'homeassistant.prefix',
    type: 'string',
    default: 'homeassistant',
    remote: false,
    restart: true,
    maxLength: 128,
    localOnly: 'topic namespace: remote configuration must not choose where the device publishes retained messages',
    pattern: {
      regex: TOPIC_LEVELS,
      message:
        "must be non-empty without MQTT wildcards (Home Assistant's discovery prefix, `homeassistant` unless changed there)",
    },
    doc: "Home Assistant's discovery prefix (its MQTT integration setting): config topics are `<prefix>/<component>/<node id>/<object id>/config`.",
  },
  {
    key: 'log.level',
    type: 'enum',
    default: 'info',
    values: ['debug', 'info', 'warn', 'error'],
    remote: true,
    env: 'DEEPN_LOG_LEVEL',
    doc: 'Log verbosity (stderr).',
  },
] as const satisfies readonly KeySpec[]

/** One entry of the schema with its literal types (key names, enum values): what types.ts derives `AgentConfig` from. */
export type SchemaEntry = (typeof SPECS)[number]

export const SCHEMA: readonly KeySpec[] = SPECS

export const SPEC_BY_KEY: ReadonlyMap<string, KeySpec> = new Map(SCHEMA.map((s) => [s.key, s]))

/** Upper bound on pushed tables, so a config message cannot grow the reported config without limit. */
export const MAX_PUSHED_TABLES = 16
