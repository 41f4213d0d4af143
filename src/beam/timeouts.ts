/** How long a connected peer may stay silent while it owes us an answer that needs no person. */
export const DEFAULT_IDLE_TIMEOUT_MS = 30_000;
/** How long one side waits while the other side's person looks at a question. */
export const PERSON_TIMEOUT_MS = 10 * 60_000;
/** How long a code may wait for a receiver. */
export const DEFAULT_CODE_LIFETIME_MS = 10 * 60_000;
/** How long a receiver looks for the sender of its code. */
export const DEFAULT_SEARCH_TIMEOUT_MS = 2 * 60_000;
