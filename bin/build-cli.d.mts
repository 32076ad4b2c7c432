/** Types of build-cli.mjs, which is plain JavaScript so that the launcher runs without type stripping. */
export declare const BUNDLE: string;
export declare function freshBundle(): Promise<string | null>;
export declare function buildCli(): Promise<void>;
