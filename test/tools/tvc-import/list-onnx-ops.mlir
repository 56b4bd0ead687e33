/// docs/OnnxSupportedOps.md is the output of `tvc-import --list-onnx-ops`:
/// adding a handler without regenerating the doc fails here.
// RUN: tvc-import --list-onnx-ops | diff %tvc_src_root/docs/OnnxSupportedOps.md -

/// --list-supported-onnx-ops prints the ai.onnx op types of both handler
/// tables (convert-onnx-to-tvc and convert-onnx-to-linalg), one per line,
/// sorted: the ONNX conformance test selects its node tests by it.
// RUN: tvc-import --list-supported-onnx-ops | FileCheck %s --check-prefix=SUPPORTED
// SUPPORTED: {{^}}Add{{$}}
// SUPPORTED: {{^}}Gelu{{$}}
// SUPPORTED: {{^}}MatMul{{$}}
// SUPPORTED: {{^}}Unsqueeze{{$}}
// SUPPORTED-NOT: FastGelu
