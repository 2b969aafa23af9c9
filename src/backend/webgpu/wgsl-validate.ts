/// <reference types="@webgpu/types" />
// WGSL validation with Dawn's null backend: Tint (Chrome's compiler) parses, resolves and checks uniformity,
// and pipeline creation checks entry points and override values; nothing is ever dispatched.
import { dawnInstance } from './device.ts';
import { locateLine, type SourcePart } from './shader-source.ts';

export interface WgslValidation {
  ok: boolean;
  /** Errors and warnings, `error file:line:col: text` when parts are given, else `error line:col: text`. */
  messages: string[];
}

export interface ValidateOptions {
  /** Parts of an assembled source, to report lines in the original files. */
  parts?: readonly SourcePart[];
  /** Also create a compute pipeline (default true; false for helper libs without an entry point). */
  pipeline?: boolean;
  /** Pipeline-overridable constants, e.g. { WG: 64 }. */
  constants?: Record<string, number>;
}

let nullDevice: Promise<GPUDevice | null> | undefined;

/** The null-backend device, or null where the `webgpu` package is missing. Created once. */
export function validatorDevice(): Promise<GPUDevice | null> {
  nullDevice ??= (async () => {
    const gpu = await dawnInstance(['backend=null']);
    const adapter = gpu && (await gpu.requestAdapter());
    return adapter ? adapter.requestDevice() : null;
  })();
  return nullDevice;
}

/** True where validation can run (Dawn installed). */
export async function canValidateWgsl(): Promise<boolean> {
  return (await validatorDevice()) !== null;
}

/**
 * Compiles `code` with Tint and, unless told otherwise, builds its compute pipeline (layout 'auto'), collecting
 * every error. Throws when Dawn is unavailable: a silent pass would hide broken shaders.
 */
export async function validateWgsl(
  code: string,
  options: ValidateOptions = {},
): Promise<WgslValidation> {
  const device = await validatorDevice();
  if (!device) throw new Error('validateWgsl: the webgpu npm package (Dawn) is not available');
  const where = (line: number, col: number) =>
    options.parts ? `${locateLine(options.parts, line)}:${col}` : `${line}:${col}`;
  const messages: string[] = [];
  let ok = true;

  device.pushErrorScope('validation');
  const module = device.createShaderModule({ code });
  const info = await module.getCompilationInfo();
  for (const m of info.messages) {
    if (m.type === 'error') ok = false;
    // Tint's 'info' lines elaborate the error before them (e.g. which value is non-uniform): keep them.
    messages.push(`${m.type} ${where(m.lineNum, m.linePos)}: ${m.message}`);
  }
  const moduleError = await device.popErrorScope();
  if (moduleError && ok) {
    ok = false;
    messages.push(`error: ${moduleError.message}`);
  }

  if (ok && options.pipeline !== false) {
    // Errors found only when an entry point is specialised (override values, workgroup size, bindings).
    device.pushErrorScope('validation');
    try {
      await device.createComputePipelineAsync({
        layout: 'auto',
        compute: { module, constants: options.constants },
      });
    } catch (e) {
      ok = false;
      messages.push(`error (pipeline): ${(e as Error).message}`);
    }
    const pipelineError = await device.popErrorScope();
    if (pipelineError) {
      ok = false;
      messages.push(`error (pipeline): ${pipelineError.message}`);
    }
  }
  return { ok, messages };
}
