// /v2/models/{m}/robustness matching a side-by-side audit by a configuration's weights hash: a model served as
// one of the configurations (dense, adversarially trained, or hardened with GI random alone, which keeps its
// source's weights) finds the report and is told which configurations attacked its weights.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HashguardApp } from '../../src/serve/index.ts';
import { AuditIndex } from '../../src/serve/audit-index.ts';
import { giModel, plainModel, testApp } from './helpers.ts';

const auditDir = mkdtempSync(join(tmpdir(), 'hashguard-audit-match-'));
let app: HashguardApp;
let plainSha: string, giSha: string;
const random = { kind: 'random', alphaMin: 50, alphaMax: 150, noise: 0.05 };

beforeAll(async () => {
  app = await testApp({ auditDir });
  plainSha = (await plainModel()).manifest.weights.sha256;
  giSha = (await giModel()).manifest.weights.sha256;
});
afterAll(() => rmSync(auditDir, { recursive: true, force: true }));

describe('robustness: match by configuration weights', () => {
  test('a remote audit of the same weights (hash under `server`, no configurations) is never served', async () => {
    writeFileSync(
      join(auditDir, 'remote.json'),
      JSON.stringify({
        kind: 'remote',
        server: { weightsSha256: giSha },
        date: '2026-01-01T00:00:00Z',
      }),
    );
    expect((await app.request('/v2/models/gi/robustness')).status).toBe(404);
  });

  test("a model served as one of a report's configurations finds it, with the configurations that attacked its weights", async () => {
    // Fields in another order than the served model's defense: the stages still compare equal.
    const stages = [{ noise: 0.05, alphaMax: 150, alphaMin: 50, kind: 'random' }];
    writeFileSync(
      join(auditDir, 'side-by-side.json'),
      JSON.stringify({
        format: 1,
        date: '2025-06-01T00:00:00Z',
        weightsSha256: '1'.repeat(64),
        tag: 'side-by-side',
        configurations: [
          { name: 'dense', stages: [], weightsSha256: plainSha },
          { name: 'hashed', stages: [], weightsSha256: '1'.repeat(64) },
          {
            name: 'hashed+GI scale',
            stages: [{ kind: 'scale', alpha: 100 }],
            weightsSha256: '2'.repeat(64),
          },
          { name: 'hashed AT', stages: [], weightsSha256: giSha },
          { name: 'hashed AT+GI random', stages, weightsSha256: giSha },
          { name: 'written before the field' },
        ],
      }),
    );
    const gi = await app.request('/v2/models/gi/robustness');
    expect(gi.status).toBe(200);
    expect(await gi.json()).toMatchObject({
      model: 'gi',
      weightsSha256: giSha,
      file: 'side-by-side.json',
      configurations: ['hashed AT', 'hashed AT+GI random'],
      configuration: 'hashed AT+GI random',
      audit: { tag: 'side-by-side' },
    });
    expect((await giModel()).manifest.defense!.stages).toEqual([random]);
    const plain = await app.request('/v2/models/plain/robustness');
    expect(await plain.json()).toMatchObject({
      model: 'plain',
      file: 'side-by-side.json',
      configurations: ['dense'],
      configuration: 'dense',
    });
    // --require-audit reads the same index: weights audited as a configuration count as audited.
    expect(await new AuditIndex(auditDir).latestFor(giSha)).not.toBeNull();
    expect(await new AuditIndex(auditDir).latestFor('3'.repeat(64))).toBeNull();
  });

  test('a report matched by its top-level hash is still served as before (newest first), with no configuration named', async () => {
    writeFileSync(
      join(auditDir, 'top-level.json'),
      JSON.stringify({ weightsSha256: giSha, date: '2025-12-01T00:00:00Z', tag: 'top-level' }),
    );
    const r = await app.request('/v2/models/gi/robustness');
    expect(await r.json()).toMatchObject({
      file: 'top-level.json',
      configurations: [],
      configuration: null,
      audit: { tag: 'top-level' },
    });
  });
});
