// RUN: tvc-opt %s -split-input-file -tvc-check-weights=base-dir=%S/Inputs -verify-diagnostics | FileCheck %s

// Inputs/model.safetensors (made by Inputs/make_safetensors.py) holds
//   wte        F32 [4, 2]
//   ln_f.scale F32 [2]
//   wpe        F16 [3, 2]
// Inputs/truncated-data.safetensors lacks its last 10 bytes and
// Inputs/truncated-header.safetensors is cut inside its JSON header.
// Cases that pass are checked with FileCheck (the pass changes nothing);
// cases that fail expect one error on each bad tvc.global.

/// External weights that all exist with the declared dtype and shape pass,
/// and the module comes out unchanged.
tvc.global @wte : tensor<4x2xf32> = #tvc.external<"model.safetensors", "wte">
tvc.global @ln_f.scale : tensor<2xf32> = #tvc.external<"model.safetensors", "ln_f.scale">
tvc.global @wpe : tensor<3x2xf16> = #tvc.external<"model.safetensors", "wpe">

func.func @external_weights_match() -> (tensor<4x2xf32>, tensor<2xf32>, tensor<3x2xf16>) {
  %wte = tvc.weight @wte : tensor<4x2xf32>
  %scale = tvc.weight @ln_f.scale : tensor<2xf32>
  %wpe = tvc.weight @wpe : tensor<3x2xf16>
  return %wte, %scale, %wpe : tensor<4x2xf32>, tensor<2xf32>, tensor<3x2xf16>
}

// CHECK: tvc.global @wte : tensor<4x2xf32> = #tvc.external<"model.safetensors", "wte">
// CHECK-NEXT: tvc.global @ln_f.scale : tensor<2xf32> = #tvc.external<"model.safetensors", "ln_f.scale">
// CHECK-NEXT: tvc.global @wpe : tensor<3x2xf16> = #tvc.external<"model.safetensors", "wpe">
// CHECK-LABEL: func.func @external_weights_match
// CHECK-NEXT: tvc.weight @wte : tensor<4x2xf32>
// CHECK-NEXT: tvc.weight @ln_f.scale : tensor<2xf32>
// CHECK-NEXT: tvc.weight @wpe : tensor<3x2xf16>

// -----

/// Inline weights (splat, non-splat, f16, and a dense_resource blob of the
/// right size) have a readable byte layout and pass.
tvc.global @bias_splat : tensor<8xf32> = dense<0.0> : tensor<8xf32>
tvc.global @scale_values : tensor<2x2xf32> = dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>
tvc.global @scale_f16 : tensor<2xf16> = dense<[1.0, 0.5]> : tensor<2xf16>
tvc.global @table_resource : tensor<2xf32> = dense_resource<table_bytes> : tensor<2xf32>

func.func @inline_weights_pass() -> tensor<8xf32> {
  %bias = tvc.weight @bias_splat : tensor<8xf32>
  return %bias : tensor<8xf32>
}

{-#
  dialect_resources: {
    builtin: {
      table_bytes: "0x040000000000803F00000040"
    }
  }
#-}

// CHECK: tvc.global @bias_splat : tensor<8xf32> = dense<0.000000e+00> : tensor<8xf32>
// CHECK-NEXT: tvc.global @scale_values : tensor<2x2xf32> = dense<{{\[\[}}1.000000e+00, 2.000000e+00], [3.000000e+00, 4.000000e+00]]> : tensor<2x2xf32>
// CHECK-NEXT: tvc.global @scale_f16 : tensor<2xf16> = dense<[1.000000e+00, 5.000000e-01]> : tensor<2xf16>
// CHECK-NEXT: tvc.global @table_resource : tensor<2xf32> = dense_resource<table_bytes> : tensor<2xf32>
// CHECK-LABEL: func.func @inline_weights_pass
// CHECK-NEXT: tvc.weight @bias_splat : tensor<8xf32>

// -----

/// A key the file does not hold.
// expected-error-re @+1 {{@wte: {{.*}}model.safetensors: no tensor named 'transformer.wte.weight'}}
tvc.global @wte : tensor<4x2xf32> = #tvc.external<"model.safetensors", "transformer.wte.weight">

// -----

/// The file stores wte as F32; declaring it f16 would reinterpret its bytes.
// expected-error-re @+1 {{@wte_f16: {{.*}}model.safetensors: tensor 'wte': stored as F32, declared as F16}}
tvc.global @wte_f16 : tensor<4x2xf16> = #tvc.external<"model.safetensors", "wte">

// -----

/// The file stores wte as [4, 2]; a transposed declaration is rejected even
/// though the element count agrees.
// expected-error-re @+1 {{@wte_transposed: {{.*}}model.safetensors: tensor 'wte': stored with shape [4x2], declared as [2x4]}}
tvc.global @wte_transposed : tensor<2x4xf32> = #tvc.external<"model.safetensors", "wte">

// -----

/// A file that does not exist under the base directory.
// expected-error-re @+1 {{@wte: {{.*}}missing.safetensors: cannot open: No such file or directory}}
tvc.global @wte : tensor<4x2xf32> = #tvc.external<"missing.safetensors", "wte">

// -----

/// An absolute path is not resolved against the base directory.
// expected-error @+1 {{@wte: /nonexistent/model.safetensors: cannot open: No such file or directory}}
tvc.global @wte : tensor<4x2xf32> = #tvc.external<"/nonexistent/model.safetensors", "wte">

// -----

/// A file whose data section was cut short is rejected as a whole, whichever
/// tensor is asked for: no view ever reaches past the end of the file.
// expected-error-re @+1 {{@wte: {{.*}}truncated-data.safetensors: tensor 'wpe': data_offsets [40, 52] exceed the data section of 42 bytes}}
tvc.global @wte : tensor<4x2xf32> = #tvc.external<"truncated-data.safetensors", "wte">

// -----

/// A file cut inside its JSON header.
// expected-error-re @+1 {{@wte: {{.*}}truncated-header.safetensors: header length 182 exceeds file size 40}}
tvc.global @wte : tensor<4x2xf32> = #tvc.external<"truncated-header.safetensors", "wte">

// -----

/// Every bad global is reported, not only the first, and good ones in
/// between stay quiet.
// expected-error-re @+1 {{@missing_key: {{.*}}model.safetensors: no tensor named 'lm_head.weight'}}
tvc.global @missing_key : tensor<4x2xf32> = #tvc.external<"model.safetensors", "lm_head.weight">
tvc.global @good : tensor<2xf32> = #tvc.external<"model.safetensors", "ln_f.scale">
// expected-error-re @+1 {{@wrong_shape: {{.*}}model.safetensors: tensor 'wpe': stored with shape [3x2], declared as [6]}}
tvc.global @wrong_shape : tensor<6xf16> = #tvc.external<"model.safetensors", "wpe">

// -----

/// An external weight whose element type has no safetensors dtype (f80).
// expected-error-re @+1 {{@wte_f80: {{.*}}model.safetensors: tensor 'wte': element type has no safetensors dtype}}
tvc.global @wte_f80 : tensor<4x2xf80> = #tvc.external<"model.safetensors", "wte">

// -----

/// An inline weight whose element type has no safetensors dtype (f80).
// expected-error @+1 {{@bias_f80: element type has no safetensors dtype}}
tvc.global @bias_f80 : tensor<2xf80> = dense<1.0> : tensor<2xf80>

// -----

/// A dense_resource whose blob is not in the file has no bytes to read.
// expected-error @+1 {{@table: resource 'absent_blob' has no data}}
tvc.global @table : tensor<4xf32> = dense_resource<absent_blob> : tensor<4xf32>

// -----

/// A dense_resource blob must hold exactly the bytes the type needs.
// expected-error @+1 {{@table: resource holds 8 bytes, the type needs 16}}
tvc.global @table : tensor<4xf32> = dense_resource<short_blob> : tensor<4xf32>

{-#
  dialect_resources: {
    builtin: {
      short_blob: "0x040000000000803F0000803F"
    }
  }
#-}

// -----

/// A sparse elements attribute has no dense byte layout to view.
// expected-error @+1 {{@sparse_bias: unsupported weight value kind}}
tvc.global @sparse_bias : tensor<4xf32> = sparse<[[0]], [1.0]> : tensor<4xf32>
