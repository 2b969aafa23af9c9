// Minimal types for the xxhashjs dev dependency (the independent reference xxHash32 in test/hash).
declare module 'xxhashjs' {
  const XXH: { h32(data: Uint8Array | ArrayBuffer | string, seed: number): { toNumber(): number } };
  export default XXH;
}
