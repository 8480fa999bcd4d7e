/** The frame buffer: the FrameStore contract, its SQLite and in-memory implementations, and the typed errors. */
export * from './store'
export * from './errors'
export { MemoryFrameStore, type MemoryFrameStoreOptions } from './memory-store'
export { SqliteFrameStore, type SqliteFrameStoreOptions, type SyncMode } from './sqlite-store'
export { openFrameStore, type OpenedFrameStore } from './open'
export { PENDING_LOSS_KEY, type BufferLoss } from './loss'
export { RecoveringFrameStore, type RecoveringFrameStoreOptions, type RecoveryInfo } from './recovering-store'
