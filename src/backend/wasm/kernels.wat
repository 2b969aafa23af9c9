;; hashguard WebAssembly SIMD kernels (f32x4). Built to kernels.wasm by scripts/build-wasm.ts (wabt).
;; Every matrix is row-major float32 in linear memory; arguments are byte offsets and sizes.
;; The host (src/backend/wasm/index.ts) copies operands in, calls one kernel, and copies the result out.
(module
  (memory (export "memory") 1)

  ;; C[m×n] = (acc ? C : 0) + A[m×k] · B[k×n]
  ;; i-k-j order: each A[i,p] is splatted and multiplied into a contiguous row of B, four columns per
  ;; instruction, so the inner loop streams B and one C row (which stays in L1) with no horizontal sums.
  (func (export "sgemm_nn") (param $a i32) (param $b i32) (param $c i32) (param $m i32) (param $n i32) (param $k i32) (param $acc i32)
    (local $i i32) (local $p i32) (local $j i32) (local $n4 i32)
    (local $crow i32) (local $brow i32) (local $av v128) (local $as f32)
    (local.set $n4 (i32.and (local.get $n) (i32.const -4)))
    (local.set $i (i32.const 0))
    (block $done_i (loop $loop_i
      (br_if $done_i (i32.ge_u (local.get $i) (local.get $m)))
      (local.set $crow (i32.add (local.get $c) (i32.shl (i32.mul (local.get $i) (local.get $n)) (i32.const 2))))
      (if (i32.eqz (local.get $acc))
        (then (memory.fill (local.get $crow) (i32.const 0) (i32.shl (local.get $n) (i32.const 2)))))
      (local.set $p (i32.const 0))
      (block $done_p (loop $loop_p
        (br_if $done_p (i32.ge_u (local.get $p) (local.get $k)))
        (local.set $as (f32.load (i32.add (local.get $a) (i32.shl (i32.add (i32.mul (local.get $i) (local.get $k)) (local.get $p)) (i32.const 2)))))
        (local.set $av (f32x4.splat (local.get $as)))
        (local.set $brow (i32.add (local.get $b) (i32.shl (i32.mul (local.get $p) (local.get $n)) (i32.const 2))))
        (local.set $j (i32.const 0))
        (block $done_j (loop $loop_j
          (br_if $done_j (i32.ge_u (local.get $j) (local.get $n4)))
          (v128.store
            (i32.add (local.get $crow) (i32.shl (local.get $j) (i32.const 2)))
            (f32x4.add
              (v128.load (i32.add (local.get $crow) (i32.shl (local.get $j) (i32.const 2))))
              (f32x4.mul (local.get $av) (v128.load (i32.add (local.get $brow) (i32.shl (local.get $j) (i32.const 2)))))))
          (local.set $j (i32.add (local.get $j) (i32.const 4)))
          (br $loop_j)))
        ;; scalar tail for n not a multiple of 4
        (block $done_t (loop $loop_t
          (br_if $done_t (i32.ge_u (local.get $j) (local.get $n)))
          (f32.store
            (i32.add (local.get $crow) (i32.shl (local.get $j) (i32.const 2)))
            (f32.add
              (f32.load (i32.add (local.get $crow) (i32.shl (local.get $j) (i32.const 2))))
              (f32.mul (local.get $as) (f32.load (i32.add (local.get $brow) (i32.shl (local.get $j) (i32.const 2)))))))
          (local.set $j (i32.add (local.get $j) (i32.const 1)))
          (br $loop_t)))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $loop_p)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $loop_i))))

  ;; Horizontal sum of the four lanes.
  (func $hsum (param $v v128) (result f32)
    (f32.add
      (f32.add (f32x4.extract_lane 0 (local.get $v)) (f32x4.extract_lane 1 (local.get $v)))
      (f32.add (f32x4.extract_lane 2 (local.get $v)) (f32x4.extract_lane 3 (local.get $v)))))

  ;; Dot product of k floats at x and y: four lanes at a time, then a scalar tail.
  (func $dot (param $x i32) (param $y i32) (param $k i32) (result f32)
    (local $p i32) (local $k4 i32) (local $s v128) (local $t f32)
    (local.set $k4 (i32.and (local.get $k) (i32.const -4)))
    (local.set $s (v128.const f32x4 0 0 0 0))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $p) (local.get $k4)))
      (local.set $s (f32x4.add (local.get $s)
        (f32x4.mul (v128.load (i32.add (local.get $x) (i32.shl (local.get $p) (i32.const 2))))
                   (v128.load (i32.add (local.get $y) (i32.shl (local.get $p) (i32.const 2)))))))
      (local.set $p (i32.add (local.get $p) (i32.const 4)))
      (br $l)))
    (local.set $t (call $hsum (local.get $s)))
    (block $done_t (loop $lt
      (br_if $done_t (i32.ge_u (local.get $p) (local.get $k)))
      (local.set $t (f32.add (local.get $t)
        (f32.mul (f32.load (i32.add (local.get $x) (i32.shl (local.get $p) (i32.const 2))))
                 (f32.load (i32.add (local.get $y) (i32.shl (local.get $p) (i32.const 2)))))))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (br $lt)))
    (local.get $t))

  ;; C[m×n] = (acc ? C : 0) + A[m×k] · B[n×k]ᵀ: one dot product of two contiguous rows per output.
  (func (export "sgemm_nt") (param $a i32) (param $b i32) (param $c i32) (param $m i32) (param $n i32) (param $k i32) (param $acc i32)
    (local $i i32) (local $j i32) (local $arow i32) (local $cptr i32) (local $v f32)
    (block $done_i (loop $loop_i
      (br_if $done_i (i32.ge_u (local.get $i) (local.get $m)))
      (local.set $arow (i32.add (local.get $a) (i32.shl (i32.mul (local.get $i) (local.get $k)) (i32.const 2))))
      (local.set $j (i32.const 0))
      (block $done_j (loop $loop_j
        (br_if $done_j (i32.ge_u (local.get $j) (local.get $n)))
        (local.set $cptr (i32.add (local.get $c) (i32.shl (i32.add (i32.mul (local.get $i) (local.get $n)) (local.get $j)) (i32.const 2))))
        (local.set $v (call $dot (local.get $arow) (i32.add (local.get $b) (i32.shl (i32.mul (local.get $j) (local.get $k)) (i32.const 2))) (local.get $k)))
        (if (local.get $acc) (then (local.set $v (f32.add (local.get $v) (f32.load (local.get $cptr))))))
        (f32.store (local.get $cptr) (local.get $v))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $loop_j)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $loop_i))))
)
