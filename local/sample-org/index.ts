export * from './schema';
export * from './rows';
export { stableGuid } from './ids';
export * from './webapi';
