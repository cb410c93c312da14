/** Types of floors.js (a plain module, so that eslint.config.js can read it without a build). */
export declare const FLOORS: Readonly<Record<string, readonly string[]>>;
export declare const ROOT_FILES: readonly string[];
