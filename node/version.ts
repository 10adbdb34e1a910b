/** The Subspace version, reported by `/v1/info` and `--version`. */
export const VERSION = "0.1.0";
