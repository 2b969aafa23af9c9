// useKernelsModule, as the Cloudflare Worker uses it: a process where compiling the embedded bytes fails (as Workers
// refuse it) starts on the reference kernels, and a module handed over later makes WebAssembly the backend, which
// then runs ops without ever decoding the bytes. In a child process, so the kernels' one instance is fresh.
import { expect, test } from 'bun:test';
import { join } from 'node:path';

const SRC = join(import.meta.dir, '../../../src');

test('useKernelsModule: the given module runs the kernels, the embedded bytes are never read', () => {
  const script = `
    import { KERNELS_WASM_BASE64 } from '${SRC}/backend/wasm/kernels-wasm.ts';
    const bytes = Uint8Array.from(atob(KERNELS_WASM_BASE64), (c) => c.charCodeAt(0));
    const module = new WebAssembly.Module(bytes);
    // From here on, decoding or compiling the embedded bytes fails, as compiling does in Workers.
    let touched = 0;
    globalThis.atob = () => { touched++; throw new Error('bytes decoded'); };
    const core = await import('${SRC}/index.ts');
    const before = core.getBackend().name;
    core.useKernelsModule(module);
    core.useKernelsModule(module); // the same module again: a no-op
    const a = new core.Tensor([2, 2], Float32Array.of(1, 2, 3, 4));
    const b = new core.Tensor([2, 2], Float32Array.of(5, 6, 7, 8));
    const y = Array.from(core.ops.matmul(a, b).data);
    let refused = '';
    try { core.useKernelsModule(new WebAssembly.Module(bytes)); } catch (e) { refused = e.message; }
    console.log(JSON.stringify({ before, after: core.getBackend().name, y, touched, refused }));
  `;
  const r = Bun.spawnSync([process.execPath, '-e', script], { stdout: 'pipe', stderr: 'pipe' });
  expect(r.stderr.toString()).toBe('');
  const out = JSON.parse(r.stdout.toString().trim().split('\n').pop()!);
  // Before: the load-time check could not read the bytes (touched once, in validate), so reference kernels.
  expect(out.before).toBe('cpu-reference');
  expect(out.after).toBe('cpu-wasm-simd');
  expect(out.y).toEqual([19, 22, 43, 50]);
  expect(out.touched).toBe(1);
  expect(out.refused).toMatch(/already run/);
});
