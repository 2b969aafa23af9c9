// Test preload (bunfig.toml): puts EGL_PLATFORM=surfaceless into the real process environment before any test
// loads Dawn, so its OpenGL ES backend finds llvmpipe on headless machines (docs/design.md §7).
import { dlopen, FFIType, ptr } from 'bun:ffi';

// NOTE: assigning process.env in Bun does not reach native getenv(); libc setenv does. Overwrite 0 keeps a
// value the shell or CI already exported.
try {
  const libc = dlopen('libc.so.6', {
    setenv: { args: [FFIType.ptr, FFIType.ptr, FFIType.i32], returns: FFIType.i32 },
  });
  // Held in variables so the bytes outlive the call (setenv copies them).
  const name = new TextEncoder().encode('EGL_PLATFORM\0');
  const value = new TextEncoder().encode('surfaceless\0');
  libc.symbols.setenv(ptr(name), ptr(value), 0);
  libc.close();
} catch {
  // Not glibc Linux (macOS, Windows, musl): no EGL surfaceless question to answer there.
}
