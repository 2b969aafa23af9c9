// The same app under Deno: `npx deno run --allow-read --allow-env --allow-net examples/embed-deno.ts` answers
// one request in-process and exits; with --listen it serves through Deno.serve on 127.0.0.1:8082.
// test/examples.test.ts runs it.
import { createApp } from '../src/node.ts';

declare const Deno: { args: string[]; serve(opts: { hostname: string; port: number }, handler: (r: Request) => Response | Promise<Response>): unknown };

const app = createApp({ models: { digits: { dir: 'models/mnist-lenet5-h8-gi' } }, workers: 1 });
await app.ready; // models load and warm up in the background
const ready = await app.request('/v2/models/digits/ready');
const meta = await app.request('/v2/models/digits');
console.log('ready', ready.status, 'backend', (await meta.json()).backend);
if (Deno.args.includes('--listen')) Deno.serve({ hostname: '127.0.0.1', port: 8082 }, app.fetch);
else await app.close();
