#!/usr/bin/env node
/**
 * `deepn` command dispatcher. Each command is a module exporting `main(argv): Promise<number>`, loaded lazily so
 * `deepn run` on a Pi never loads the offline tools (eval, table building) or their heavy dependencies.
 * Agent commands live in agent/commands; offline tools in scripts/ (the agent runtime never imports them).
 * Commands throw on failure; this file turns that into the one convention of agent/cli-args.ts (one line
 * `deepn <command>: …`, exit 2 for usage errors, 1 otherwise).
 */
import { exitCodeFor, failureLine } from './cli-args'
import { packageVersion } from './package-root'

type Main = (argv: string[]) => Promise<number>

const commands: Record<string, { help: string; load: () => Main }> = {
  encode: {
    help: 'encode an image file to JPEG with DeepN or standard tables',
    load: () => require('./commands/encode').main,
  },
  run: { help: 'run the edge agent (capture → encode → buffer → MQTT)', load: () => require('./commands/run').main },
  demo: {
    help: 'agent + in-process broker + receiver on embedded defaults (npm start)',
    load: () => require('../scripts/demo/cli').main,
  },
  calibrate: {
    help: 'collect DCT statistics from the camera and build a DeepN table',
    load: () => require('./commands/calibrate').main,
  },
  tables: { help: 'build / optimize quantization tables (offline)', load: () => require('../scripts/tables/cli').main },
  eval: { help: 'rate–accuracy evaluation of tables (offline)', load: () => require('../scripts/eval/cli').main },
  'push-table': {
    help: 'push a table file to a device (or, canaries first, to a fleet) over remote config',
    load: () => require('../scripts/backend/push-table/cli').main,
  },
  receive: {
    help: 'reference backend: MQTT frames → dataset folder (+ classification)',
    load: () => require('../scripts/backend/receive/cli').main,
  },
  simulate: {
    help: 'load-test a backend: N simulated devices publishing real frames, status and telemetry',
    load: () => require('../scripts/backend/simulate/cli').main,
  },
}

function usage(): string {
  const rows = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(10)} ${c.help}`)
  return `usage: deepn <command> [options]\n       deepn help <command> | --version\n\ncommands:\n${rows.join('\n')}\n\n'deepn help <command>' (or 'deepn <command> --help') for a command's options.`
}

/** The version in package.json. */
export const version = packageVersion

/** Runs `argv` and returns the exit status; failures are printed as one line on stderr. */
export async function dispatch(argv: string[]): Promise<number> {
  let [name, ...rest] = argv
  if (name === '--version' || name === '-V') {
    console.log(`deepn ${version()}`)
    return 0
  }
  if (name === 'help') {
    if (rest.length === 0) {
      console.log(usage())
      return 0
    }
    ;[name, ...rest] = [...rest, '--help']
  }
  if (!name || name === '--help' || name === '-h') {
    console.log(usage())
    return name ? 0 : 2
  }
  const cmd = Object.hasOwn(commands, name) ? commands[name] : undefined // not `constructor` & co.
  if (!cmd) {
    console.error(
      `deepn: unknown command '${name}' (commands: ${Object.keys(commands).join(', ')}; see 'deepn --help')`,
    )
    return 2
  }
  try {
    return await cmd.load()(rest)
  } catch (err) {
    console.error(failureLine(name, err))
    return exitCodeFor(err)
  }
}

if (require.main === module) {
  dispatch(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code
    },
    (err: unknown) => {
      console.error(`deepn: ${err instanceof Error ? err.message : String(err)}`)
      process.exitCode = 1
    },
  )
}
