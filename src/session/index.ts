export * from './busy.js';
export * from './find.js';
export * from './home.js';
export * from './install.js';
export * from './outgoing.js';
export * from './source-info.js';
export * from './choose.js';
export * from './environment.js';
