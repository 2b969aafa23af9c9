// The pure-TS tar reader on archives built by the test: members, long names, and every refusal.
import { test, expect, describe } from 'bun:test';
import { readTar, DatasetError } from '../../src/data/index.ts';
import { makeTar } from './helpers.ts';

const bytes = (s: string) => new TextEncoder().encode(s);

describe('readTar', () => {
  test('lists directories and files with their bytes', () => {
    const big = new Uint8Array(1300).map((_, i) => i & 0xff);
    const entries = readTar(
      makeTar([
        { name: 'top/', type: '5' },
        { name: 'top/a.txt', data: bytes('hello') },
        { name: 'top/b.bin', data: big },
        { name: 'top/empty', data: new Uint8Array(0) },
      ]),
      'x.tar',
    );
    expect(entries.map((e) => [e.path, e.type, e.data.length])).toEqual([
      ['top', 'directory', 0],
      ['top/a.txt', 'file', 5],
      ['top/b.bin', 'file', 1300],
      ['top/empty', 'file', 0],
    ]);
    expect(new TextDecoder().decode(entries[1].data)).toBe('hello');
    expect(Array.from(entries[2].data)).toEqual(Array.from(big));
  });

  test('GNU long names and pax paths', () => {
    const long = 'd/' + 'x'.repeat(150);
    const pax = bytes(`${` path=p/${'y'.repeat(120)}\n`.length + 3} path=p/${'y'.repeat(120)}\n`);
    const entries = readTar(
      makeTar([
        { name: '././@LongLink', type: 'L', data: bytes(long + '\0') },
        { name: 'truncated', data: bytes('1') },
        { name: 'PaxHeader', type: 'x', data: pax },
        { name: 'short', data: bytes('2') },
      ]),
      'x.tar',
    );
    expect(entries.map((e) => e.path)).toEqual([long, `p/${'y'.repeat(120)}`]);
  });

  test('refuses unsafe paths, links, bad checksums and truncation, naming the archive', () => {
    const fails = (tar: Uint8Array, re: RegExp) => {
      let err: unknown;
      try {
        readTar(tar, '/d/a.tar');
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(DatasetError);
      expect((err as Error).message).toMatch(re);
    };
    fails(
      makeTar([{ name: '../evil', data: bytes('x') }]),
      /^\/d\/a\.tar: .*unsafe path '\.\.\/evil'/,
    );
    fails(makeTar([{ name: '/etc/passwd', data: bytes('x') }]), /unsafe path/);
    fails(makeTar([{ name: 'link', type: '2' }]), /unsupported type '2'/);
    const corrupt = makeTar([{ name: 'a', data: bytes('x') }]);
    corrupt[10] ^= 1;
    fails(corrupt, /checksum .* \(corrupt archive\)/);
    const cut = makeTar([{ name: 'a', data: new Uint8Array(2000) }]).subarray(0, 1024);
    fails(cut, /truncated: tar member at byte 0 needs 2000 bytes/);
  });
});
