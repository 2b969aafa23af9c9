// The one error type of src/onnx: every refusal of a file (bad bytes, an op hashguard has no layer for, a graph
// that is not a chain) is an OnnxError whose message names where (field path or node) and why.
/** A file the ONNX reader, importer or exporter refuses; the message names the field path or node. */
export class OnnxError extends Error {
  override name = 'OnnxError';
}

/** Malformed protobuf bytes (wire level): a subclass so callers may tell corrupt files from unsupported graphs. */
export class ProtobufError extends OnnxError {
  override name = 'ProtobufError';
}
