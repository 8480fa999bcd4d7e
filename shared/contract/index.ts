/**
 * The agent ↔ backend protocol as code (`deepn-edge/contract`): topics, id rules, the request/response envelope,
 * and a builder and a parser for every message. docs/protocol.md describes it. Pure: no I/O, no timers.
 */
export * from './topics'
export * from './ids'
export * from './payload'
export * from './envelope'
export * from './config-messages'
export * from './calibration-messages'
export * from './ack'
export * from './telemetry'
export * from './status'
export * from './frame-metadata'
export * from './loss'
export * from './results'
export * from './homeassistant'
