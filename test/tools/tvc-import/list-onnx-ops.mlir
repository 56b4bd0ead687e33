/// docs/OnnxSupportedOps.md is the output of `tvc-import --list-onnx-ops`:
/// adding a handler without regenerating the doc fails here.
// RUN: tvc-import --list-onnx-ops | diff %tvc_src_root/docs/OnnxSupportedOps.md -
