export * from './limits.js';
export * from './manifest.js';
export * from './messages.js';
export * from './pack.js';
export * from './paths.js';
export * from './receive-files.js';
export * from './send-files.js';
export * from './hello.js';
