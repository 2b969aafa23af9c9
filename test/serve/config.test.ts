// Flags and environment of the entry files: defaults, env fallbacks, repeatable --model/--scores, and
// usage errors that name the flag.
import { describe, expect, test } from 'bun:test';
import {
  DEFAULT_MODEL,
  parseServeConfig,
  serverUrl,
  serveUsage,
  ServeUsageError,
} from '../../src/serve/config.ts';
import { entryConfig } from '../../src/serve/start.ts';
import { DEFAULT_LIMITS } from '../../src/serve/options.ts';

describe('parseServeConfig', () => {
  test('defaults: 127.0.0.1:8080, the committed GI model, default limits, in-memory budgets', () => {
    const c = parseServeConfig([], {});
    expect(c.host).toBe('127.0.0.1');
    expect(c.port).toBe(8080);
    expect(c.redisUrl).toBeNull();
    expect(c.options.models).toEqual({ [DEFAULT_MODEL.name]: { dir: DEFAULT_MODEL.dir } });
    expect(DEFAULT_MODEL.dir).toMatch(/models\/mnist-cnn-h8-at-gi$/);
    expect(c.options.limits).toEqual(DEFAULT_LIMITS);
    expect(c.options.budgets).toEqual({ limit: 10_000, windowMs: 3_600_000 });
    expect(c.options.detect).toMatchObject({ mode: 'block', flagAfter: 5, matchShare: 0.5 });
  });

  test('query-attack detection flags: modes, thresholds and the seed; bad values are named', () => {
    const c = parseServeConfig(
      [
        '--detect',
        'log',
        '--detect-flag-after',
        '8',
        '--detect-match',
        '0.6',
        '--detect-max-queries',
        '1000',
        '--detect-ban-ms',
        '60000',
        '--detect-seed',
        '7',
      ],
      {},
    );
    expect(c.options.detect).toMatchObject({
      mode: 'log',
      flagAfter: 8,
      matchShare: 0.6,
      maxQueries: 1000,
      banMs: 60_000,
      seed: 7,
    });
    expect(parseServeConfig(['--detect', 'off'], {}).options.detect).toMatchObject({ mode: 'off' });
    expect(() => parseServeConfig(['--detect', 'on'], {})).toThrow(
      "--detect: expected one of off, log, block, got 'on'",
    );
    expect(() => parseServeConfig(['--detect-match', '0'], {})).toThrow(/--detect-match/);
    expect(() => parseServeConfig(['--detect-flag-after', '0'], {})).toThrow(/--detect-flag-after/);
  });

  test('env fallbacks and flags', () => {
    const c = parseServeConfig(
      [
        '--model',
        'a=/m/a',
        '--model',
        'b=/m/b',
        '--scores',
        'b=logits',
        '--max-queue',
        '0',
        '--deadline-ms',
        '500',
        '--api-key',
        'k1',
        '--budget-limit',
        '0',
      ],
      { HOST: '0.0.0.0', PORT: '9000', REDIS_URL: 'redis://r:6379', HASHGUARD_API_KEYS: 'k2, k3' },
    );
    expect(c.host).toBe('0.0.0.0');
    expect(c.port).toBe(9000);
    expect(c.redisUrl).toBe('redis://r:6379');
    expect(c.options.models).toEqual({ a: { dir: '/m/a' }, b: { dir: '/m/b', scores: 'logits' } });
    expect(c.options.limits).toMatchObject({ maxQueue: 0, deadlineMs: 500 });
    expect(c.options.budgets).toBe(false);
    expect(
      parseServeConfig(['--port', '1', '--api-key', 'k1'], { PORT: '2', HASHGUARD_API_KEYS: 'k2' })
        .options.budgets,
    ).toMatchObject({ keys: ['k1', 'k2'] });
    expect(parseServeConfig(['--port', '1'], { PORT: '2' }).port).toBe(1);
    expect(
      parseServeConfig(['--trust-proxy', '10.0.0.1', '--trust-proxy', '10.0.0.2'], {}).options
        .budgets,
    ).toMatchObject({ trustedProxies: ['10.0.0.1', '10.0.0.2'] });
    expect(parseServeConfig(['--api-key-file', '/k'], {}).apiKeyFile).toBe('/k');
    expect(parseServeConfig([], { HASHGUARD_API_KEY_FILE: '/e' }).apiKeyFile).toBe('/e');
    expect(parseServeConfig(['--budget-max-clients', '5'], {}).options.budgets).toMatchObject({
      maxClients: 5,
    });
    expect(() => parseServeConfig(['--trust-proxy', 'proxy.local'], {})).toThrow(
      "--trust-proxy 'proxy.local': expected an IP address",
    );
  });

  test('an unknown flag is named with the valid ones; --help and -h answer the usage without starting', () => {
    expect(() => parseServeConfig(['--bogus-flag'], {})).toThrow(
      /^unknown flag --bogus-flag \(valid flags: --host, --port, .*--trust-proxy, --detect, --detect-flag-after, --detect-window, .*--detect-seed\)$/,
    );
    expect(entryConfig(['--port', '1', '-h'], {})).toEqual({ exit: 0, message: serveUsage });
    expect(entryConfig(['--bogus-flag'], {})).toMatchObject({
      exit: 2,
      message: expect.stringContaining('unknown flag --bogus-flag'),
    });
    expect('config' in entryConfig([], {})).toBe(true);
  });

  test('usage errors name the flag', () => {
    for (const [argv, msg] of [
      [['--port', '70000'], '--port'],
      [['--max-batch', '0'], '--max-batch'],
      [['--model', 'nodir'], 'NAME=VALUE'],
      [['--scores', 'x=all'], 'no such --model'],
      [['--model', 'a=/a', '--scores', 'a=all'], 'expected one of'],
      [['--model', 'a=/a', '--model', 'a=/b'], 'given twice'],
      [['--frobnicate'], 'frobnicate'],
      [['--deadline-ms', '1.5'], '--deadline-ms'],
    ] as [string[], string][]) {
      expect(() => parseServeConfig(argv, {})).toThrow(ServeUsageError);
      expect(() => parseServeConfig(argv, {})).toThrow(msg);
    }
  });

  test('serverUrl brackets IPv6 literals', () => {
    expect(serverUrl('::1', 80)).toBe('http://[::1]:80');
    expect(serverUrl('127.0.0.1', 80)).toBe('http://127.0.0.1:80');
  });
});
