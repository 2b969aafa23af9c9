// Public door of src/onnx: reading ONNX files into hashguard layers (importOnnx) and writing hashguard models as ONNX
// (exportOnnx), with a bounded protobuf reader of its own. Pure: no file access (external data comes through a reader).
export { OnnxError, ProtobufError } from './errors.ts';
export {
  importOnnx,
  MIN_OPSET,
  MAX_OPSET,
  type ImportedOnnx,
  type ImportOptions,
} from './import.ts';
export { exportOnnx, EXPORT_OPSET, type ExportOptions } from './export.ts';
export { SUPPORTED_OPS } from './graph-walk.ts';
export {
  decodeOnnxModel,
  decodeTensorProto,
  MAX_DIM,
  MAX_TENSOR_ELEMENTS,
  type DecodeOptions,
} from './decode.ts';
export { encodeOnnxModel } from './encode.ts';
export { MAX_DEPTH, MAX_ELEMENTS } from './protobuf.ts';
export { MAX_ACTIVATION, MAX_AFFINE_LENGTH } from './layer-list.ts';
export {
  DataType,
  type OnnxAttribute,
  type OnnxGraph,
  type OnnxModel,
  type OnnxNode,
  type OnnxTensor,
  type OnnxValueInfo,
} from './onnx-model.ts';
