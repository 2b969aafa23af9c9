// decodeSafetensors on a Node Buffer that views part of a larger allocation (what readFileSync can return and
// what library users pass to modelFromBytes): the tensors are the file's, not bytes from around it.
import { expect, test } from 'bun:test';
import { decodeSafetensors, encodeSafetensors } from '../../src/nn/safetensors.ts';
import { tensor } from '../../src/tensor/tensor.ts';

test('a Buffer view at an offset decodes to exactly its own tensors', () => {
  const file = encodeSafetensors({
    a: tensor([1, 2, 3]),
    b: tensor([4, 5, 6, 7], [2, 2]),
  });
  // The file sits 24 bytes into a bigger buffer; Buffer#slice would hand out views of all of it.
  const pool = Buffer.alloc(file.length + 64, 0xff);
  pool.set(file, 24);
  const view = pool.subarray(24, 24 + file.length);
  const { tensors } = decodeSafetensors(view, 'w.safetensors');
  expect(Array.from(tensors.get('a')!.data)).toEqual([1, 2, 3]);
  expect(tensors.get('b')!.shape).toEqual([2, 2]);
  expect(Array.from(tensors.get('b')!.data)).toEqual([4, 5, 6, 7]);
});
