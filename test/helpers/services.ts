// Tests that need a service this machine may lack (Redis, a WebGPU adapter through Mesa's EGL) call
// serviceMissing: on a developer's machine the suite skips with one line naming what enables it; under
// CI=true it fails instead, so CI (which installs and starts every service) can never skip them silently.
import { test } from 'bun:test';

/** True where skipping a service suite is an error: CI=true (or 1), as CI sets it. */
export const SERVICES_REQUIRED = /^(true|1)$/i.test(process.env.CI ?? '');

/** The marker .ci/run looks for: any line starting with it means a service suite did not run. */
export const SKIP_MARKER = 'service-skip:';

/**
 * Registers, in place of a suite that cannot run, one skipped test (or, under CI=true, one failing test)
 * whose name says what is missing and how to enable it, and prints that as one line.
 */
export function serviceMissing(service: string, enableWith: string, detail = ''): void {
  const line = `${SKIP_MARKER} ${service} tests skipped: ${enableWith}${detail ? ` (${detail})` : ''}`;
  if (SERVICES_REQUIRED) {
    test(`${service} is available (CI=true requires it)`, () => {
      throw new Error(
        `${service} is missing under CI=true: ${enableWith}${detail ? ` (${detail})` : ''}`,
      );
    });
    return;
  }
  console.warn(line);
  test.skip(`${service}: ${enableWith}`, () => {});
}
