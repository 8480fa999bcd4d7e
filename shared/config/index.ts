export * from './schema'
export * from './types'
export * from './validate'
export { envOverrides } from './env'
