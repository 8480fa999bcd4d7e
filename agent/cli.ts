#!/usr/bin/env node
/**
 * `deepn` command dispatcher. Each command is a module exporting `main(argv): Promise<number>`, loaded lazily so
 * `deepn run` on a Pi never loads the offline tools (eval, table building) or their heavy dependencies.
 * Agent commands live in agent/commands; offline tools in scripts/ (the agent runtime never imports them).
 */
type Main = (argv: string[]) => Promise<number>

const commands: Record<string, { help: string; load: () => Main }> = {
  encode: { help: 'encode an image file to JPEG with DeepN or standard tables', load: () => require('./commands/encode').main },
  run: { help: 'run the edge agent (capture → encode → buffer → MQTT)', load: () => require('./commands/run').main },
  demo: { help: 'agent + in-process broker + receiver on embedded defaults (npm start)', load: () => require('../scripts/demo').main },
  calibrate: { help: 'collect DCT statistics from the camera and build a DeepN table', load: () => require('./commands/calibrate').main },
  tables: { help: 'build / optimize quantization tables (offline)', load: () => require('../scripts/tables').main },
  eval: { help: 'rate–accuracy evaluation of tables (offline)', load: () => require('../scripts/eval').main },
  'push-table': { help: 'push a table file to a device over remote config and wait for its report', load: () => require('../scripts/push-table').main },
  receive: { help: 'reference backend: MQTT frames → dataset folder (+ classification)', load: () => require('../scripts/receive').main },
}

function usage(): string {
  const rows = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(10)} ${c.help}`)
  return `usage: deepn <command> [options]\n\ncommands:\n${rows.join('\n')}\n\n'deepn <command> --help' for a command's options.`
}

async function dispatch(argv: string[]): Promise<number> {
  const [name, ...rest] = argv
  if (!name || name === '--help' || name === '-h') {
    console.log(usage())
    return name ? 0 : 2
  }
  const cmd = Object.hasOwn(commands, name) ? commands[name] : undefined // not `constructor` & co.
  if (!cmd) {
    console.error(`deepn: unknown command '${name}'\n\n${usage()}`)
    return 2
  }
  return cmd.load()(rest)
}

dispatch(process.argv.slice(2)).then(
  (code) => { process.exitCode = code },
  (err: unknown) => {
    console.error(`deepn: ${err instanceof Error ? err.message : String(err)}`)
    process.exitCode = 1
  },
)
