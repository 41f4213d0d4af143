export * from './sodium.js';
export * from './cpace.js';
export * from './key-schedule.js';
export * from './sealed-stream.js';
export { utf8, lvCat, concatBytes } from './bytes.js';
