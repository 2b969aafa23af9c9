// ONNX's own node tests (the onnx/backend/test/data/node files, as Debian's libonnx-testdata installs them): each
// single-op test whose shapes fit hashguard's layers is imported and run, and its output compared with the test's
// output_0.pb within 1e-5; tests of forms hashguard refuses must be refused with an OnnxError. The data folder is
// $ONNX_TESTDATA_DIR or /usr/share/libonnx-testdata/data/node; where it is missing the suite skips with a
// service-skip line (and fails under CI=true).
import { describe, expect, test } from 'bun:test';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { referenceBackend, withBackend } from '../../src/backend/index.ts';
import { Sequential, type LayerSpec } from '../../src/nn/index.ts';
import { Tensor } from '../../src/tensor/index.ts';
import { decodeOnnxModel, decodeTensorProto, OnnxError } from '../../src/onnx/index.ts';
import { importDecoded } from '../../src/onnx/import.ts';
import { tensorFloats } from '../../src/onnx/onnx-model.ts';
import { serviceMissing } from '../helpers/services.ts';

const DIR = process.env.ONNX_TESTDATA_DIR ?? '/usr/share/libonnx-testdata/data/node';

/**
 * How a test is adapted to hashguard's input convention (one image [C, H, W], or [N, D] with a given shape):
 * 'as-is'; 'rank3' reads an elementwise op's [N, a, b] input as [N, a, b, 1] (the same values, so the same
 * outputs); 'opset1' declares opset 9 for a file written at opset 1 whose op (Global*Pool) never changed since.
 */
type Adapt = 'as-is' | 'rank3' | 'opset1';

/** Node tests run and compared, by op. */
const RUN: Record<string, Adapt> = {
  test_basic_conv_with_padding: 'as-is',
  test_basic_conv_without_padding: 'as-is',
  test_conv_with_strides_no_padding: 'as-is',
  test_conv_with_strides_padding: 'as-is',
  test_conv_with_autopad_same: 'as-is',
  test_gemm_default_no_bias: 'as-is',
  test_gemm_default_scalar_bias: 'as-is',
  test_gemm_default_single_elem_vector_bias: 'as-is',
  test_gemm_default_vector_bias: 'as-is',
  test_gemm_default_zero_bias: 'as-is',
  test_gemm_alpha: 'as-is',
  test_gemm_beta: 'as-is',
  test_gemm_transposeB: 'as-is',
  test_matmul_2d: 'as-is',
  test_batchnorm_example: 'as-is',
  test_batchnorm_epsilon: 'as-is',
  test_maxpool_2d_default: 'as-is',
  test_maxpool_2d_strides: 'as-is',
  test_maxpool_2d_precomputed_strides: 'as-is',
  test_averagepool_2d_default: 'as-is',
  test_averagepool_2d_strides: 'as-is',
  test_averagepool_2d_precomputed_strides: 'as-is',
  test_globalaveragepool: 'opset1',
  test_globalaveragepool_precomputed: 'opset1',
  test_globalmaxpool: 'opset1',
  test_globalmaxpool_precomputed: 'opset1',
  test_flatten_axis1: 'as-is',
  test_flatten_default_axis: 'as-is',
  test_flatten_negative_axis3: 'as-is',
  test_identity: 'as-is',
  test_relu: 'rank3',
  test_leakyrelu: 'rank3',
  test_leakyrelu_default: 'rank3',
  test_sigmoid: 'rank3',
  test_tanh: 'rank3',
  test_clip: 'rank3',
  test_clip_default_min: 'rank3',
  test_clip_default_max: 'rank3',
  test_dropout_default: 'rank3',
  test_dropout_default_ratio: 'rank3',
  test_reshape_reduced_dims: 'rank3',
  test_softmax_example: 'as-is',
  test_softmax_large_number: 'as-is',
  test_logsoftmax_example_1: 'as-is',
  test_logsoftmax_large_number: 'as-is',
};

/** Node tests of forms hashguard has no layer for: each must be refused with an OnnxError saying why. */
const REFUSED: Record<string, string | [string, Adapt]> = {
  test_conv_with_strides_and_asymmetric_padding: 'are not one symmetric value',
  test_maxpool_2d_pads: 'padded pooling',
  test_averagepool_2d_pads: 'padded pooling',
  test_maxpool_2d_same_upper: 'not the same on both sides',
  test_maxpool_2d_dilations: 'dilations [2, 2] are not supported',
  test_maxpool_2d_ceil: 'ceil_mode=1 changes the output size',
  test_averagepool_2d_ceil: 'ceil_mode=1 changes the output size',
  test_gemm_transposeA: 'transA=1',
  test_gemm_all_attributes: 'transA=1',
  test_gemm_default_matrix_bias: 'differs per batch row',
  test_transpose_default: ['moves data', 'rank3'],
  test_batchnorm_example_training_mode: 'training_mode=1',
  test_constant_pad: 'constant value 1.2000000476837158 is not supported',
  test_reshape_extended_dims: ['is not a flatten', 'rank3'],
  test_flatten_axis2: 'only axis 1 is supported',
  test_softmax_default_axis: ['only [N, classes]', 'rank3'],
};

/** The test's model with inputs 1… turned into initializers (their values from input_k.pb), and its data. */
function load(name: string, adapt: Adapt) {
  const dir = join(DIR, name);
  const model = decodeOnnxModel(readFileSync(join(dir, 'model.onnx')));
  const inputs = model.graph.input.map((_, i) =>
    decodeTensorProto(readFileSync(join(dir, 'test_data_set_0', `input_${i}.pb`))),
  );
  model.graph.input
    .slice(1)
    .forEach((v, i) => model.graph.initializer.push({ ...inputs[i + 1], name: v.name }));
  const x = inputs[0];
  const dims = [...x.dims];
  if (adapt === 'rank3') dims.push(1);
  if (adapt === 'opset1') model.opsetImport = [{ domain: '', version: 9 }];
  model.graph.input[0].dims = dims;
  const want = decodeTensorProto(readFileSync(join(dir, 'test_data_set_0', 'output_0.pb')));
  const inputShape = dims.length === 2 ? ([dims[1], 1, 1] as [number, number, number]) : undefined;
  return { model, x, dims, want, inputShape };
}

const installed = existsSync(join(DIR, 'test_relu', 'model.onnx'));
if (!installed)
  serviceMissing(
    'ONNX node test data',
    'apt-get install libonnx-testdata, or set ONNX_TESTDATA_DIR',
    `nothing at ${DIR}`,
  );

describe.if(installed)('node tests hashguard runs: output within 1e-5 of output_0.pb', () => {
  for (const [name, adapt] of Object.entries(RUN)) {
    test(name, () => {
      const { model, x, dims, want, inputShape } = load(name, adapt);
      const r = importDecoded(model, { inputShape, anyOutputShape: true });
      // A single op may end in [N, C, H, W]: a flatten makes it a vector the model runner accepts.
      const layers: LayerSpec[] =
        r.outputShape.length > 1 ? [...r.layers, { type: 'flatten' }] : r.layers;
      const n = dims[0];
      const input = new Tensor([n, ...r.inputShape], Float32Array.from(tensorFloats(x, name)));
      const out = withBackend(referenceBackend, () =>
        new Sequential(r.inputShape, layers, r.params).forward(input),
      );
      const got = Float64Array.from(out.data);
      if (r.output !== 'logits') logSoftmaxRows(got, n, r.output === 'softmax');
      const expected = tensorFloats(want, name);
      expect(got.length).toBe(expected.length);
      const scale = Math.max(1, ...expected.map(Math.abs));
      const err = Math.max(...got.map((v, i) => Math.abs(v - expected[i])));
      expect(err).toBeLessThanOrEqual(1e-5 * scale);
    });
  }
});

describe.if(installed)('node tests of forms hashguard refuses', () => {
  for (const [name, entry] of Object.entries(REFUSED)) {
    const [why, adapt] = typeof entry === 'string' ? [entry, 'as-is' as const] : entry;
    test(name, () => {
      const { model, inputShape } = load(name, adapt);
      let error: unknown;
      try {
        importDecoded(model, { inputShape, anyOutputShape: true });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(OnnxError);
      expect((error as Error).message).toContain(why);
    });
  }
});

/** Row-wise log-softmax (or softmax) in place. */
function logSoftmaxRows(z: Float64Array, rows: number, exp: boolean): void {
  const k = z.length / rows;
  for (let r = 0; r < rows; r++) {
    const row = z.subarray(r * k, (r + 1) * k);
    const m = Math.max(...row);
    const lse = m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
    row.forEach((v, j) => (row[j] = exp ? Math.exp(v - lse) : v - lse));
  }
}
