/**
 * yaml, loaded on use (about 20 ms at start-up) through this module: a dynamic import of the
 * CommonJS package itself yields only a default export once the CLI is bundled, while a static
 * import here gives the named functions under both builds.
 */
export { parse, stringify } from 'yaml';
