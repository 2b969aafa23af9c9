// The benchmark's ONNX writer is hashguard's own exporter (src/onnx): the same dense-equivalent graph onnxruntime-node
// runs beside hashguard's engines, so the comparison uses exactly what `hashguard export` writes.
export { exportOnnx } from '../src/onnx/index.ts';
