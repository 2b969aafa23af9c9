// Where the demo page's scripts come from: a build passed in by the entry (Bun.build, run once, on the first
// request, and kept in memory), else the prebuilt files of `npm run build:package` (dist/demo/), else nothing,
// with the reason the page shows. A failed build is logged once and falls back to the prebuilt files.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DEMO_SCRIPTS, type DemoScripts } from './bundle.ts';

export type DemoScriptSource = { scripts: DemoScripts; from: string } | { missing: string };

export const NOT_BUILT =
  "The demo page's script bundle is not built. Run `npm run build:package` (it writes dist/demo/, which Node and Deno serve), or serve with Bun (`bun run serve`), which builds it on the first request.";

export class DemoAssets {
  private built: Promise<DemoScripts | null> | null = null;
  private prebuilt: DemoScripts | null = null;

  constructor(
    private readonly dir: string,
    private readonly build: (() => Promise<DemoScripts>) | undefined,
    private readonly log: (message: string) => void,
  ) {}

  /** The scripts, or why there are none. A missing prebuilt bundle is looked for again on the next call. */
  async get(): Promise<DemoScriptSource> {
    if (this.build) {
      this.built ??= this.build().catch((e) => {
        this.log(`hashguard serve: demo bundle: ${(e as Error).message}; serving ${this.dir}`);
        return null;
      });
      const scripts = await this.built;
      if (scripts) return { scripts, from: 'built in memory' };
    }
    if (!this.prebuilt) {
      try {
        const files = await Promise.all(DEMO_SCRIPTS.map((f) => readFile(join(this.dir, f))));
        this.prebuilt = Object.fromEntries(
          DEMO_SCRIPTS.map((f, i) => [f, new Uint8Array(files[i])]),
        ) as DemoScripts;
      } catch {
        return { missing: NOT_BUILT };
      }
    }
    return { scripts: this.prebuilt, from: this.dir };
  }
}
