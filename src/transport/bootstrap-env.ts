/** The environment variable that names DHT bootstrap nodes (kept apart so that help text needs no DHT code). */
export const BOOTSTRAP_ENV = 'COPILOT_BEAM_BOOTSTRAP';
