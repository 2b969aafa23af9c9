// Minimal types for the wabt dev dependency (the WebAssembly text assembler used by scripts/build-wasm.ts).
declare module 'wabt' {
  interface WasmModule {
    validate(): void;
    toBinary(options: { log?: boolean; write_debug_names?: boolean }): { buffer: Uint8Array };
    destroy(): void;
  }
  export default function init(): Promise<{
    parseWat(filename: string, text: string, features?: Record<string, boolean>): WasmModule;
  }>;
}
