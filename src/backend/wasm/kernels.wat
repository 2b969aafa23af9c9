;; hashguard WebAssembly SIMD kernels (f32x4). Built into kernels-wasm.ts by scripts/build-wasm.ts (wabt).
;; Matrices are row-major float32 in linear memory; arguments are byte offsets, sizes and leading dimensions
;; (in floats). The host (src/backend/wasm/gemm.ts) packs operands so every call sees whole tiles.
(module
  (memory (export "memory") 1)

  ;; C[m×n] = (acc ? C : 0) + A[m×k] · B[k×n], for m a multiple of 4 and n a multiple of 8, every row
  ;; 16-byte aligned (lda, ldb, ldc multiples of 4). Register-blocked 4×8: eight f32x4 accumulators hold a
  ;; 4-row × 8-column tile of C for the whole k loop, so each step costs two vector loads of B, four scalar
  ;; loads of A and eight multiply-adds, and C is touched once per tile. The j-outer order keeps one 8-column
  ;; panel of B (k × 32 bytes) in L1 while every 4-row block of A streams past it; the host splits k into
  ;; chunks (acc = 1 after the first) so that panel and the A block stay cache-resident.
  ;; Sums run in p order per element, like the reference kernel, so results differ only by rounding of the
  ;; same additions (mul and add are separate: no fused multiply-add, which would change the rounding).
  (func (export "sgemm") (param $a i32) (param $b i32) (param $c i32) (param $m i32) (param $n i32) (param $k i32)
                         (param $lda i32) (param $ldb i32) (param $ldc i32) (param $acc i32)
    (local $i i32) (local $j i32) (local $p i32)
    (local $pa0 i32) (local $pa1 i32) (local $pa2 i32) (local $pa3 i32) (local $pb i32) (local $pc i32)
    (local $rowa i32) (local $rowb i32) (local $rowc i32)
    (local $b0 v128) (local $b1 v128) (local $s v128)
    (local $c00 v128) (local $c01 v128) (local $c10 v128) (local $c11 v128)
    (local $c20 v128) (local $c21 v128) (local $c30 v128) (local $c31 v128)
    (local.set $rowa (i32.shl (local.get $lda) (i32.const 2)))
    (local.set $rowb (i32.shl (local.get $ldb) (i32.const 2)))
    (local.set $rowc (i32.shl (local.get $ldc) (i32.const 2)))
    (local.set $j (i32.const 0))
    (block $done_j (loop $loop_j
      (br_if $done_j (i32.ge_u (local.get $j) (local.get $n)))
      (local.set $i (i32.const 0))
      (block $done_i (loop $loop_i
        (br_if $done_i (i32.ge_u (local.get $i) (local.get $m)))
        ;; pc = &C[i, j]
        (local.set $pc (i32.add (local.get $c)
          (i32.add (i32.mul (local.get $i) (local.get $rowc)) (i32.shl (local.get $j) (i32.const 2)))))
        (if (local.get $acc)
          (then
            (local.set $c00 (v128.load (local.get $pc)))
            (local.set $c01 (v128.load offset=16 (local.get $pc)))
            (local.set $c10 (v128.load (i32.add (local.get $pc) (local.get $rowc))))
            (local.set $c11 (v128.load offset=16 (i32.add (local.get $pc) (local.get $rowc))))
            (local.set $c20 (v128.load (i32.add (local.get $pc) (i32.shl (local.get $rowc) (i32.const 1)))))
            (local.set $c21 (v128.load offset=16 (i32.add (local.get $pc) (i32.shl (local.get $rowc) (i32.const 1)))))
            (local.set $c30 (v128.load (i32.add (local.get $pc) (i32.mul (local.get $rowc) (i32.const 3)))))
            (local.set $c31 (v128.load offset=16 (i32.add (local.get $pc) (i32.mul (local.get $rowc) (i32.const 3))))))
          (else
            (local.set $c00 (v128.const i32x4 0 0 0 0)) (local.set $c01 (v128.const i32x4 0 0 0 0))
            (local.set $c10 (v128.const i32x4 0 0 0 0)) (local.set $c11 (v128.const i32x4 0 0 0 0))
            (local.set $c20 (v128.const i32x4 0 0 0 0)) (local.set $c21 (v128.const i32x4 0 0 0 0))
            (local.set $c30 (v128.const i32x4 0 0 0 0)) (local.set $c31 (v128.const i32x4 0 0 0 0))))
        (local.set $pa0 (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $rowa))))
        (local.set $pa1 (i32.add (local.get $pa0) (local.get $rowa)))
        (local.set $pa2 (i32.add (local.get $pa1) (local.get $rowa)))
        (local.set $pa3 (i32.add (local.get $pa2) (local.get $rowa)))
        (local.set $pb (i32.add (local.get $b) (i32.shl (local.get $j) (i32.const 2))))
        (local.set $p (local.get $k))
        (block $done_p (loop $loop_p
          (br_if $done_p (i32.eqz (local.get $p)))
          (local.set $b0 (v128.load (local.get $pb)))
          (local.set $b1 (v128.load offset=16 (local.get $pb)))
          (local.set $s (f32x4.splat (f32.load (local.get $pa0))))
          (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $s) (local.get $b0))))
          (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $s) (local.get $b1))))
          (local.set $s (f32x4.splat (f32.load (local.get $pa1))))
          (local.set $c10 (f32x4.add (local.get $c10) (f32x4.mul (local.get $s) (local.get $b0))))
          (local.set $c11 (f32x4.add (local.get $c11) (f32x4.mul (local.get $s) (local.get $b1))))
          (local.set $s (f32x4.splat (f32.load (local.get $pa2))))
          (local.set $c20 (f32x4.add (local.get $c20) (f32x4.mul (local.get $s) (local.get $b0))))
          (local.set $c21 (f32x4.add (local.get $c21) (f32x4.mul (local.get $s) (local.get $b1))))
          (local.set $s (f32x4.splat (f32.load (local.get $pa3))))
          (local.set $c30 (f32x4.add (local.get $c30) (f32x4.mul (local.get $s) (local.get $b0))))
          (local.set $c31 (f32x4.add (local.get $c31) (f32x4.mul (local.get $s) (local.get $b1))))
          (local.set $pa0 (i32.add (local.get $pa0) (i32.const 4)))
          (local.set $pa1 (i32.add (local.get $pa1) (i32.const 4)))
          (local.set $pa2 (i32.add (local.get $pa2) (i32.const 4)))
          (local.set $pa3 (i32.add (local.get $pa3) (i32.const 4)))
          (local.set $pb (i32.add (local.get $pb) (local.get $rowb)))
          (local.set $p (i32.sub (local.get $p) (i32.const 1)))
          (br $loop_p)))
        (v128.store (local.get $pc) (local.get $c00))
        (v128.store offset=16 (local.get $pc) (local.get $c01))
        (local.set $pc (i32.add (local.get $pc) (local.get $rowc)))
        (v128.store (local.get $pc) (local.get $c10))
        (v128.store offset=16 (local.get $pc) (local.get $c11))
        (local.set $pc (i32.add (local.get $pc) (local.get $rowc)))
        (v128.store (local.get $pc) (local.get $c20))
        (v128.store offset=16 (local.get $pc) (local.get $c21))
        (local.set $pc (i32.add (local.get $pc) (local.get $rowc)))
        (v128.store (local.get $pc) (local.get $c30))
        (v128.store offset=16 (local.get $pc) (local.get $c31))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $loop_i)))
      (local.set $j (i32.add (local.get $j) (i32.const 8)))
      (br $loop_j))))

  ;; Elementwise kernels over n floats, four lanes at a time. n is a multiple of 4 (the host's scratch arrays
  ;; are padded to 16 bytes and only the first length values are read back). $s is a scalar operand.
  ;; Results are bit-identical to the reference: one IEEE f32 operation per element, as in JS on f32 inputs.

  ;; y = a > 0 ? a : 0 (pmax(0, a) = 0 < a ? a : 0, so NaN and -0 give +0, like the reference)
  (func (export "relu") (param $a i32) (param $y i32) (param $n i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $y) (i32.shl (local.get $n) (i32.const 2))))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $y) (local.get $end)))
      (v128.store (local.get $y) (f32x4.pmax (v128.const f32x4 0 0 0 0) (v128.load (local.get $a))))
      (local.set $a (i32.add (local.get $a) (i32.const 16)))
      (local.set $y (i32.add (local.get $y) (i32.const 16)))
      (br $l))))

  ;; y = a add b, same shape
  (func (export "add") (param $a i32) (param $b i32) (param $y i32) (param $n i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $y) (i32.shl (local.get $n) (i32.const 2))))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $y) (local.get $end)))
      (v128.store (local.get $y) (f32x4.add (v128.load (local.get $a)) (v128.load (local.get $b))))
      (local.set $a (i32.add (local.get $a) (i32.const 16)))
      (local.set $b (i32.add (local.get $b) (i32.const 16)))
      (local.set $y (i32.add (local.get $y) (i32.const 16)))
      (br $l))))

  ;; y = a add s, s a scalar
  (func (export "add_s") (param $a i32) (param $s f32) (param $y i32) (param $n i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $y) (i32.shl (local.get $n) (i32.const 2))))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $y) (local.get $end)))
      (v128.store (local.get $y) (f32x4.add (v128.load (local.get $a)) (f32x4.splat (local.get $s))))
      (local.set $a (i32.add (local.get $a) (i32.const 16)))
      (local.set $y (i32.add (local.get $y) (i32.const 16)))
      (br $l))))

  ;; y = a sub b, same shape
  (func (export "sub") (param $a i32) (param $b i32) (param $y i32) (param $n i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $y) (i32.shl (local.get $n) (i32.const 2))))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $y) (local.get $end)))
      (v128.store (local.get $y) (f32x4.sub (v128.load (local.get $a)) (v128.load (local.get $b))))
      (local.set $a (i32.add (local.get $a) (i32.const 16)))
      (local.set $b (i32.add (local.get $b) (i32.const 16)))
      (local.set $y (i32.add (local.get $y) (i32.const 16)))
      (br $l))))

  ;; y = a sub s, s a scalar
  (func (export "sub_s") (param $a i32) (param $s f32) (param $y i32) (param $n i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $y) (i32.shl (local.get $n) (i32.const 2))))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $y) (local.get $end)))
      (v128.store (local.get $y) (f32x4.sub (v128.load (local.get $a)) (f32x4.splat (local.get $s))))
      (local.set $a (i32.add (local.get $a) (i32.const 16)))
      (local.set $y (i32.add (local.get $y) (i32.const 16)))
      (br $l))))

  ;; y = a mul b, same shape
  (func (export "mul") (param $a i32) (param $b i32) (param $y i32) (param $n i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $y) (i32.shl (local.get $n) (i32.const 2))))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $y) (local.get $end)))
      (v128.store (local.get $y) (f32x4.mul (v128.load (local.get $a)) (v128.load (local.get $b))))
      (local.set $a (i32.add (local.get $a) (i32.const 16)))
      (local.set $b (i32.add (local.get $b) (i32.const 16)))
      (local.set $y (i32.add (local.get $y) (i32.const 16)))
      (br $l))))

  ;; y = a mul s, s a scalar
  (func (export "mul_s") (param $a i32) (param $s f32) (param $y i32) (param $n i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $y) (i32.shl (local.get $n) (i32.const 2))))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $y) (local.get $end)))
      (v128.store (local.get $y) (f32x4.mul (v128.load (local.get $a)) (f32x4.splat (local.get $s))))
      (local.set $a (i32.add (local.get $a) (i32.const 16)))
      (local.set $y (i32.add (local.get $y) (i32.const 16)))
      (br $l))))

  ;; y = (a gt s) ? 1 : 0 (NaN compares false)
  (func (export "gt_s") (param $a i32) (param $s f32) (param $y i32) (param $n i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $y) (i32.shl (local.get $n) (i32.const 2))))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $y) (local.get $end)))
      (v128.store (local.get $y) (v128.and (f32x4.gt (v128.load (local.get $a)) (f32x4.splat (local.get $s))) (v128.const f32x4 1 1 1 1)))
      (local.set $a (i32.add (local.get $a) (i32.const 16)))
      (local.set $y (i32.add (local.get $y) (i32.const 16)))
      (br $l))))

  ;; y = (a ge s) ? 1 : 0 (NaN compares false)
  (func (export "ge_s") (param $a i32) (param $s f32) (param $y i32) (param $n i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $y) (i32.shl (local.get $n) (i32.const 2))))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $y) (local.get $end)))
      (v128.store (local.get $y) (v128.and (f32x4.ge (v128.load (local.get $a)) (f32x4.splat (local.get $s))) (v128.const f32x4 1 1 1 1)))
      (local.set $a (i32.add (local.get $a) (i32.const 16)))
      (local.set $y (i32.add (local.get $y) (i32.const 16)))
      (br $l))))

  ;; y = (a lt s) ? 1 : 0 (NaN compares false)
  (func (export "lt_s") (param $a i32) (param $s f32) (param $y i32) (param $n i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $y) (i32.shl (local.get $n) (i32.const 2))))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $y) (local.get $end)))
      (v128.store (local.get $y) (v128.and (f32x4.lt (v128.load (local.get $a)) (f32x4.splat (local.get $s))) (v128.const f32x4 1 1 1 1)))
      (local.set $a (i32.add (local.get $a) (i32.const 16)))
      (local.set $y (i32.add (local.get $y) (i32.const 16)))
      (br $l))))

  ;; y = (a le s) ? 1 : 0 (NaN compares false)
  (func (export "le_s") (param $a i32) (param $s f32) (param $y i32) (param $n i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $y) (i32.shl (local.get $n) (i32.const 2))))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $y) (local.get $end)))
      (v128.store (local.get $y) (v128.and (f32x4.le (v128.load (local.get $a)) (f32x4.splat (local.get $s))) (v128.const f32x4 1 1 1 1)))
      (local.set $a (i32.add (local.get $a) (i32.const 16)))
      (local.set $y (i32.add (local.get $y) (i32.const 16)))
      (br $l))))

  ;; y[p, i] = x[p, i] + bias[p mod c] over planes p = 0 .. planes-1 of `inner` floats each (NCHW bias add).
  (func (export "bias_add") (param $x i32) (param $bias i32) (param $y i32) (param $planes i32) (param $c i32) (param $inner i32)
    (local $p i32) (local $i i32) (local $inner4 i32) (local $bs f32) (local $bv v128) (local $off i32)
    (local.set $inner4 (i32.and (local.get $inner) (i32.const -4)))
    (block $done_p (loop $loop_p
      (br_if $done_p (i32.ge_u (local.get $p) (local.get $planes)))
      (local.set $bs (f32.load (i32.add (local.get $bias) (i32.shl (i32.rem_u (local.get $p) (local.get $c)) (i32.const 2)))))
      (local.set $bv (f32x4.splat (local.get $bs)))
      (local.set $i (i32.const 0))
      (block $done_v (loop $loop_v
        (br_if $done_v (i32.ge_u (local.get $i) (local.get $inner4)))
        (local.set $off (i32.shl (local.get $i) (i32.const 2)))
        (v128.store (i32.add (local.get $y) (local.get $off)) (f32x4.add (v128.load (i32.add (local.get $x) (local.get $off))) (local.get $bv)))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $loop_v)))
      (block $done_t (loop $loop_t
        (br_if $done_t (i32.ge_u (local.get $i) (local.get $inner)))
        (local.set $off (i32.shl (local.get $i) (i32.const 2)))
        (f32.store (i32.add (local.get $y) (local.get $off)) (f32.add (f32.load (i32.add (local.get $x) (local.get $off))) (local.get $bs)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $loop_t)))
      (local.set $off (i32.shl (local.get $inner) (i32.const 2)))
      (local.set $x (i32.add (local.get $x) (local.get $off)))
      (local.set $y (i32.add (local.get $y) (local.get $off)))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (br $loop_p))))

  ;; Byte offset of the first (row-major) maximum of the k×k window at (oy·s, ox·s) of the w-wide plane at byte
  ;; offset $plane: strict '>' so ties keep the earliest element, exactly as the reference.
  (func $window_argmax (param $plane i32) (param $w i32) (param $k i32) (param $s i32) (param $oy i32) (param $ox i32) (result i32)
    (local $ky i32) (local $kx i32) (local $best i32) (local $bv f32) (local $at i32) (local $v f32)
    (local.set $best (i32.add (local.get $plane)
      (i32.shl (i32.add (i32.mul (i32.mul (local.get $oy) (local.get $s)) (local.get $w)) (i32.mul (local.get $ox) (local.get $s))) (i32.const 2))))
    (local.set $bv (f32.load (local.get $best)))
    (block $done_y (loop $loop_y
      (br_if $done_y (i32.ge_u (local.get $ky) (local.get $k)))
      (local.set $kx (i32.const 0))
      (block $done_x (loop $loop_x
        (br_if $done_x (i32.ge_u (local.get $kx) (local.get $k)))
        (local.set $at (i32.add (local.get $plane) (i32.shl (i32.add
          (i32.mul (i32.add (i32.mul (local.get $oy) (local.get $s)) (local.get $ky)) (local.get $w))
          (i32.add (i32.mul (local.get $ox) (local.get $s)) (local.get $kx))) (i32.const 2))))
        (local.set $v (f32.load (local.get $at)))
        (if (f32.gt (local.get $v) (local.get $bv)) (then (local.set $best (local.get $at)) (local.set $bv (local.get $v))))
        (local.set $kx (i32.add (local.get $kx) (i32.const 1)))
        (br $loop_x)))
      (local.set $ky (i32.add (local.get $ky) (i32.const 1)))
      (br $loop_y)))
    (local.get $best))

  ;; Forward 2×2 max pooling with stride 2 (LeNet's and VGG's), four outputs per step. Two vector loads per
  ;; input row hold the four windows' eight columns; shuffles split them into left (even) and right (odd)
  ;; columns. The reference's scalar rule `if (v > best) best = v`, taken top-left, top-right, bottom-left,
  ;; bottom-right, is exactly f32x4.pmax(best, v) = best < v ? v : best, so NaN and ±0 resolve as it does,
  ;; with no data-dependent branch (the scalar version mispredicted on about every other comparison).
  ;; A row's last group may be short (ow mod 4): it loads up to 6 floats past the row (into the next row or,
  ;; for the last plane, the 64-byte guard every host buffer has) and stores only its valid lanes.
  (func $max_pool_2x2 (param $x i32) (param $y i32) (param $planes i32) (param $h i32) (param $w i32) (param $oh i32) (param $ow i32)
    (local $p i32) (local $oy i32) (local $ox i32) (local $r0 i32) (local $r1 i32) (local $rowb i32) (local $t i32)
    (local $a v128) (local $b v128) (local $m v128)
    (local.set $rowb (i32.shl (local.get $w) (i32.const 2)))
    (block $done_p (loop $loop_p
      (br_if $done_p (i32.ge_u (local.get $p) (local.get $planes)))
      (local.set $oy (i32.const 0))
      (block $done_y (loop $loop_y
        (br_if $done_y (i32.ge_u (local.get $oy) (local.get $oh)))
        (local.set $r0 (i32.add (local.get $x) (i32.shl (i32.mul (i32.add (i32.mul (local.get $p) (local.get $h)) (i32.shl (local.get $oy) (i32.const 1))) (local.get $w)) (i32.const 2))))
        (local.set $r1 (i32.add (local.get $r0) (local.get $rowb)))
        (local.set $ox (i32.const 0))
        (block $done_x (loop $loop_x
          (br_if $done_x (i32.ge_u (local.get $ox) (local.get $ow)))
          (local.set $a (v128.load (local.get $r0)))
          (local.set $b (v128.load offset=16 (local.get $r0)))
          ;; top-left (even lanes), then top-right (odd lanes)
          (local.set $m (f32x4.pmax
            (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (local.get $a) (local.get $b))
            (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (local.get $a) (local.get $b))))
          (local.set $a (v128.load (local.get $r1)))
          (local.set $b (v128.load offset=16 (local.get $r1)))
          (local.set $m (f32x4.pmax (local.get $m)
            (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (local.get $a) (local.get $b))))
          (local.set $m (f32x4.pmax (local.get $m)
            (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (local.get $a) (local.get $b))))
          (local.set $t (i32.sub (local.get $ow) (local.get $ox)))
          (if (i32.ge_u (local.get $t) (i32.const 4))
            (then (v128.store (local.get $y) (local.get $m)) (local.set $t (i32.const 4)))
            (else
              (if (i32.ge_u (local.get $t) (i32.const 2)) (then (v128.store64_lane 0 (local.get $y) (local.get $m))))
              (if (i32.eq (local.get $t) (i32.const 1)) (then (v128.store32_lane 0 (local.get $y) (local.get $m))))
              (if (i32.eq (local.get $t) (i32.const 3)) (then (v128.store32_lane offset=8 2 (local.get $y) (local.get $m))))))
          (local.set $y (i32.add (local.get $y) (i32.shl (local.get $t) (i32.const 2))))
          (local.set $r0 (i32.add (local.get $r0) (i32.const 32)))
          (local.set $r1 (i32.add (local.get $r1) (i32.const 32)))
          (local.set $ox (i32.add (local.get $ox) (i32.const 4)))
          (br $loop_x)))
        (local.set $oy (i32.add (local.get $oy) (i32.const 1)))
        (br $loop_y)))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (br $loop_p))))

  ;; Backward of 2×2 / stride-2 max pooling, four windows per step: the forward's comparisons, kept as lane
  ;; masks (f32x4.gt, the same strict '>'), pick each window's first maximum; dy goes there and +0 elsewhere,
  ;; interleaved back into the two input rows. Windows do not overlap, so the host's zeroed dx is overwritten
  ;; rather than accumulated; adding +0 turns a -0 dy into +0, as the reference's 0 + dy does. Short groups
  ;; read up to 3 floats past dy and 6 past the row (the 64-byte guard) and store only their valid lanes.
  (func $max_pool_2x2_grad (param $x i32) (param $dy i32) (param $dx i32) (param $planes i32) (param $h i32) (param $w i32) (param $oh i32) (param $ow i32)
    (local $p i32) (local $oy i32) (local $ox i32) (local $r0 i32) (local $r1 i32) (local $rowb i32) (local $t i32) (local $out i32)
    (local $a v128) (local $b v128) (local $best v128) (local $v v128) (local $d v128)
    (local $m01 v128) (local $m10 v128) (local $m11 v128) (local $g00 v128) (local $g01 v128) (local $g10 v128) (local $g11 v128)
    (local.set $rowb (i32.shl (local.get $w) (i32.const 2)))
    (block $done_p (loop $loop_p
      (br_if $done_p (i32.ge_u (local.get $p) (local.get $planes)))
      (local.set $oy (i32.const 0))
      (block $done_y (loop $loop_y
        (br_if $done_y (i32.ge_u (local.get $oy) (local.get $oh)))
        ;; byte offset of the window row pair, relative to x (and to dx)
        (local.set $r0 (i32.shl (i32.mul (i32.add (i32.mul (local.get $p) (local.get $h)) (i32.shl (local.get $oy) (i32.const 1))) (local.get $w)) (i32.const 2)))
        (local.set $r1 (i32.add (local.get $r0) (local.get $rowb)))
        (local.set $ox (i32.const 0))
        (block $done_x (loop $loop_x
          (br_if $done_x (i32.ge_u (local.get $ox) (local.get $ow)))
          (local.set $a (v128.load (i32.add (local.get $x) (local.get $r0))))
          (local.set $b (v128.load offset=16 (i32.add (local.get $x) (local.get $r0))))
          (local.set $best (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (local.get $a) (local.get $b)))
          (local.set $v (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (local.get $a) (local.get $b)))
          (local.set $m01 (f32x4.gt (local.get $v) (local.get $best)))
          (local.set $best (f32x4.pmax (local.get $best) (local.get $v)))
          (local.set $a (v128.load (i32.add (local.get $x) (local.get $r1))))
          (local.set $b (v128.load offset=16 (i32.add (local.get $x) (local.get $r1))))
          (local.set $v (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (local.get $a) (local.get $b)))
          (local.set $m10 (f32x4.gt (local.get $v) (local.get $best)))
          (local.set $best (f32x4.pmax (local.get $best) (local.get $v)))
          (local.set $v (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (local.get $a) (local.get $b)))
          (local.set $m11 (f32x4.gt (local.get $v) (local.get $best)))
          ;; the last comparison that succeeded names the window's first maximum
          (local.set $d (v128.load (local.get $dy)))
          (local.set $g11 (v128.and (local.get $d) (local.get $m11)))
          (local.set $g10 (v128.andnot (v128.and (local.get $d) (local.get $m10)) (local.get $m11)))
          (local.set $g01 (v128.andnot (v128.and (local.get $d) (local.get $m01)) (v128.or (local.get $m10) (local.get $m11))))
          (local.set $g00 (v128.andnot (local.get $d) (v128.or (local.get $m01) (v128.or (local.get $m10) (local.get $m11)))))
          (local.set $g00 (f32x4.add (local.get $g00) (v128.const f32x4 0 0 0 0)))
          (local.set $g01 (f32x4.add (local.get $g01) (v128.const f32x4 0 0 0 0)))
          (local.set $g10 (f32x4.add (local.get $g10) (v128.const f32x4 0 0 0 0)))
          (local.set $g11 (f32x4.add (local.get $g11) (v128.const f32x4 0 0 0 0)))
          (local.set $t (i32.sub (local.get $ow) (local.get $ox)))
          (if (i32.gt_u (local.get $t) (i32.const 4)) (then (local.set $t (i32.const 4))))
          (call $store_pairs (i32.add (local.get $dx) (local.get $r0)) (local.get $g00) (local.get $g01) (local.get $t))
          (call $store_pairs (i32.add (local.get $dx) (local.get $r1)) (local.get $g10) (local.get $g11) (local.get $t))
          (local.set $dy (i32.add (local.get $dy) (i32.shl (local.get $t) (i32.const 2))))
          (local.set $r0 (i32.add (local.get $r0) (i32.const 32)))
          (local.set $r1 (i32.add (local.get $r1) (i32.const 32)))
          (local.set $ox (i32.add (local.get $ox) (i32.const 4)))
          (br $loop_x)))
        (local.set $oy (i32.add (local.get $oy) (i32.const 1)))
        (br $loop_y)))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (br $loop_p))))

  ;; Stores the first $t (1..4) pairs (l[i], r[i]) interleaved from $at: 2·$t floats.
  (func $store_pairs (param $at i32) (param $l v128) (param $r v128) (param $t i32)
    (local $lo v128)
    (local.set $lo (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $l) (local.get $r)))
    (if (i32.eq (local.get $t) (i32.const 1))
      (then (v128.store64_lane 0 (local.get $at) (local.get $lo)) (return)))
    (v128.store (local.get $at) (local.get $lo))
    (if (i32.eq (local.get $t) (i32.const 2)) (then (return)))
    (local.set $lo (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $l) (local.get $r)))
    (if (i32.eq (local.get $t) (i32.const 3))
      (then (v128.store64_lane offset=16 0 (local.get $at) (local.get $lo)) (return)))
    (v128.store offset=16 (local.get $at) (local.get $lo)))

  ;; Max pooling, k×k window, stride s, no padding: y[p, oy, ox] = max of the window, for every plane p.
  ;; With $backward = 1 it is the backward pass instead: dx (at $y, zeroed by the host, laid out like x) gets dy
  ;; added at each window's argmax.
  (func (export "max_pool") (param $backward i32) (param $x i32) (param $dy i32) (param $y i32) (param $planes i32) (param $h i32) (param $w i32)
                            (param $k i32) (param $s i32) (param $oh i32) (param $ow i32)
    (local $p i32) (local $oy i32) (local $ox i32) (local $plane i32) (local $best i32) (local $at i32)
    (if (i32.and (i32.eq (local.get $k) (i32.const 2)) (i32.eq (local.get $s) (i32.const 2)))
      (then
        (if (local.get $backward)
          (then (call $max_pool_2x2_grad (local.get $x) (local.get $dy) (local.get $y) (local.get $planes) (local.get $h) (local.get $w) (local.get $oh) (local.get $ow)))
          (else (call $max_pool_2x2 (local.get $x) (local.get $y) (local.get $planes) (local.get $h) (local.get $w) (local.get $oh) (local.get $ow))))
        (return)))
    (block $done_p (loop $loop_p
      (br_if $done_p (i32.ge_u (local.get $p) (local.get $planes)))
      (local.set $plane (i32.add (local.get $x) (i32.shl (i32.mul (local.get $p) (i32.mul (local.get $h) (local.get $w))) (i32.const 2))))
      (local.set $oy (i32.const 0))
      (block $done_y (loop $loop_y
        (br_if $done_y (i32.ge_u (local.get $oy) (local.get $oh)))
        (local.set $ox (i32.const 0))
        (block $done_x (loop $loop_x
          (br_if $done_x (i32.ge_u (local.get $ox) (local.get $ow)))
          (local.set $best (call $window_argmax (local.get $plane) (local.get $w) (local.get $k) (local.get $s) (local.get $oy) (local.get $ox)))
          (if (i32.eqz (local.get $backward))
            (then (f32.store (local.get $y) (f32.load (local.get $best)))
                  (local.set $y (i32.add (local.get $y) (i32.const 4))))
            (else
              (local.set $at (i32.add (local.get $y) (i32.sub (local.get $best) (local.get $x))))
              (f32.store (local.get $at) (f32.add (f32.load (local.get $at)) (f32.load (local.get $dy))))
              (local.set $dy (i32.add (local.get $dy) (i32.const 4)))))
          (local.set $ox (i32.add (local.get $ox) (i32.const 1)))
          (br $loop_x)))
        (local.set $oy (i32.add (local.get $oy) (i32.const 1)))
        (br $loop_y)))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (br $loop_p))))
  ;; Copies `len` floats from byte offset $src to $dst: four lanes at a time, then a scalar tail (nothing past
  ;; len is touched). Unaligned loads and stores are fine in WebAssembly.
  (func $run (param $src i32) (param $dst i32) (param $len i32)
    (local $end4 i32) (local $end i32)
    (local.set $end (i32.add (local.get $src) (i32.shl (local.get $len) (i32.const 2))))
    (local.set $end4 (i32.add (local.get $src) (i32.shl (i32.and (local.get $len) (i32.const -4)) (i32.const 2))))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $src) (local.get $end4)))
      (v128.store (local.get $dst) (v128.load (local.get $src)))
      (local.set $src (i32.add (local.get $src) (i32.const 16)))
      (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
      (br $l)))
    (block $done_t (loop $lt
      (br_if $done_t (i32.ge_u (local.get $src) (local.get $end)))
      (f32.store (local.get $dst) (f32.load (local.get $src)))
      (local.set $src (i32.add (local.get $src) (i32.const 4)))
      (local.set $dst (i32.add (local.get $dst) (i32.const 4)))
      (br $lt))))

  ;; Copies ceil4($len) floats from $src to $dst, whole vectors only: up to 3 floats past $len are read and
  ;; written. Only for callers that overwrite that spill later or own the space after it.
  (func $copy_over (param $src i32) (param $dst i32) (param $len i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $dst) (i32.shl (local.get $len) (i32.const 2))))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $dst) (local.get $end)))
      (v128.store (local.get $dst) (v128.load (local.get $src)))
      (local.set $src (i32.add (local.get $src) (i32.const 16)))
      (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
      (br $l))))

  ;; $dst[i] += $src[i] for i < $len: whole vectors, then a scalar tail (col2im's accumulation, which must not
  ;; touch anything past $len).
  (func $add_run (param $src i32) (param $dst i32) (param $len i32)
    (local $end4 i32) (local $end i32)
    (local.set $end (i32.add (local.get $src) (i32.shl (local.get $len) (i32.const 2))))
    (local.set $end4 (i32.add (local.get $src) (i32.shl (i32.and (local.get $len) (i32.const -4)) (i32.const 2))))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $src) (local.get $end4)))
      (v128.store (local.get $dst) (f32x4.add (v128.load (local.get $dst)) (v128.load (local.get $src))))
      (local.set $src (i32.add (local.get $src) (i32.const 16)))
      (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
      (br $l)))
    (block $done_t (loop $lt
      (br_if $done_t (i32.ge_u (local.get $src) (local.get $end)))
      (f32.store (local.get $dst) (f32.add (f32.load (local.get $dst)) (f32.load (local.get $src))))
      (local.set $src (i32.add (local.get $src) (i32.const 4)))
      (local.set $dst (i32.add (local.get $dst) (i32.const 4)))
      (br $lt))))

  ;; im2col (mode 0) and its transpose col2im (mode 1) for nb images of c×h×w at $x and the column matrix at
  ;; $cols (row stride $ld floats): row r = (ci·k + ky)·k + kx, column j·oh·ow + oy·ow + ox, pairing
  ;; cols[r][col] with x[j, ci, oy·s − p + ky, ox·s − p + kx]. Mode 0 writes cols (0 where the window hangs
  ;; over the padding); mode 1 adds cols into x (which the host zeroed), so overlapping windows accumulate.
  ;; Stride-1 rows copy their in-image run in whole vectors ($copy_over: im2col writes each row segment before
  ;; the ones its spill reaches; the host leaves a 64-byte guard after cols) and zero-fill the padding ends;
  ;; col2im adds the run back ($add_run, exact length: x has live neighbours).
  (func (export "im2col") (param $mode i32) (param $x i32) (param $cols i32) (param $nb i32) (param $c i32) (param $h i32) (param $w i32)
                          (param $k i32) (param $s i32) (param $p i32) (param $oh i32) (param $ow i32) (param $ld i32)
    (local $ci i32) (local $ky i32) (local $kx i32) (local $j i32) (local $oy i32) (local $ox i32)
    (local $iy i32) (local $ix i32) (local $row i32) (local $dst i32) (local $plane i32) (local $src i32) (local $at i32)
    (local $ohw i32) (local $s1 i32) (local $lo i32) (local $hi i32)
    (local.set $ohw (i32.mul (local.get $oh) (local.get $ow)))
    (local.set $row (local.get $cols))
    (block $done_c (loop $loop_c
      (br_if $done_c (i32.ge_u (local.get $ci) (local.get $c)))
      (local.set $ky (i32.const 0))
      (block $done_ky (loop $loop_ky
        (br_if $done_ky (i32.ge_u (local.get $ky) (local.get $k)))
        (local.set $kx (i32.const 0))
        (block $done_kx (loop $loop_kx
          (br_if $done_kx (i32.ge_u (local.get $kx) (local.get $k)))
          ;; stride 1: ix = ox − p + kx is inside [0, w) exactly for ox in [lo, hi), lo = clamp(p − kx, 0, ow),
          ;; hi = clamp(w + p − kx, lo, ow)
          (local.set $s1 (i32.eq (local.get $s) (i32.const 1)))
          (local.set $lo (i32.sub (local.get $p) (local.get $kx)))
          (if (i32.lt_s (local.get $lo) (i32.const 0)) (then (local.set $lo (i32.const 0))))
          (if (i32.gt_s (local.get $lo) (local.get $ow)) (then (local.set $lo (local.get $ow))))
          (local.set $hi (i32.sub (i32.add (local.get $w) (local.get $p)) (local.get $kx)))
          (if (i32.gt_s (local.get $hi) (local.get $ow)) (then (local.set $hi (local.get $ow))))
          (if (i32.lt_s (local.get $hi) (local.get $lo)) (then (local.set $hi (local.get $lo))))
          (local.set $j (i32.const 0))
          (block $done_j (loop $loop_j
            (br_if $done_j (i32.ge_u (local.get $j) (local.get $nb)))
            (local.set $plane (i32.add (local.get $x)
              (i32.shl (i32.mul (i32.add (i32.mul (local.get $j) (local.get $c)) (local.get $ci)) (i32.mul (local.get $h) (local.get $w))) (i32.const 2))))
            (local.set $oy (i32.const 0))
            (block $done_oy (loop $loop_oy
              (br_if $done_oy (i32.ge_u (local.get $oy) (local.get $oh)))
              (local.set $iy (i32.add (i32.sub (i32.mul (local.get $oy) (local.get $s)) (local.get $p)) (local.get $ky)))
              (local.set $dst (i32.add (local.get $row)
                (i32.shl (i32.add (i32.mul (local.get $j) (local.get $ohw)) (i32.mul (local.get $oy) (local.get $ow))) (i32.const 2))))
              (if (i32.or (i32.lt_s (local.get $iy) (i32.const 0)) (i32.ge_s (local.get $iy) (local.get $h)))
                (then
                  (if (i32.eqz (local.get $mode))
                    (then (memory.fill (local.get $dst) (i32.const 0) (i32.shl (local.get $ow) (i32.const 2))))))
                (else
                  ;; src = &x[j, ci, iy, kx − p] (may point before the row; only in-bounds ix are touched)
                  (local.set $src (i32.add (local.get $plane)
                    (i32.shl (i32.sub (i32.add (i32.mul (local.get $iy) (local.get $w)) (local.get $kx)) (local.get $p)) (i32.const 2))))
                  (if (local.get $s1)
                    (then
                      ;; stride 1: pixels ox in [lo, hi) read inside the row, the rest are padding
                      (if (local.get $mode)
                        (then (call $add_run
                                (i32.add (local.get $dst) (i32.shl (local.get $lo) (i32.const 2)))
                                (i32.add (local.get $src) (i32.shl (local.get $lo) (i32.const 2)))
                                (i32.sub (local.get $hi) (local.get $lo))))
                        (else
                          ;; left padding, the in-row run (whole vectors: it may spill up to 3 floats past hi,
                          ;; which the right padding, the next segment or the row's padding columns overwrite
                          ;; later, or the 64-byte guard after the buffer takes), then the right padding
                          (if (local.get $lo) (then (memory.fill (local.get $dst) (i32.const 0) (i32.shl (local.get $lo) (i32.const 2)))))
                          (call $copy_over
                            (i32.add (local.get $src) (i32.shl (local.get $lo) (i32.const 2)))
                            (i32.add (local.get $dst) (i32.shl (local.get $lo) (i32.const 2)))
                            (i32.sub (local.get $hi) (local.get $lo)))
                          (if (i32.lt_u (local.get $hi) (local.get $ow))
                            (then (memory.fill (i32.add (local.get $dst) (i32.shl (local.get $hi) (i32.const 2))) (i32.const 0)
                              (i32.shl (i32.sub (local.get $ow) (local.get $hi)) (i32.const 2))))))))
                    (else
                      (local.set $ox (i32.const 0))
                      (block $done_ox (loop $loop_ox
                        (br_if $done_ox (i32.ge_u (local.get $ox) (local.get $ow)))
                        (local.set $ix (i32.add (i32.sub (i32.mul (local.get $ox) (local.get $s)) (local.get $p)) (local.get $kx)))
                        (local.set $at (i32.add (local.get $dst) (i32.shl (local.get $ox) (i32.const 2))))
                        (if (i32.and (i32.ge_s (local.get $ix) (i32.const 0)) (i32.lt_s (local.get $ix) (local.get $w)))
                          (then
                            (if (local.get $mode)
                              (then (f32.store (i32.add (local.get $src) (i32.shl (i32.mul (local.get $ox) (local.get $s)) (i32.const 2)))
                                      (f32.add (f32.load (i32.add (local.get $src) (i32.shl (i32.mul (local.get $ox) (local.get $s)) (i32.const 2))))
                                               (f32.load (local.get $at)))))
                              (else (f32.store (local.get $at)
                                      (f32.load (i32.add (local.get $src) (i32.shl (i32.mul (local.get $ox) (local.get $s)) (i32.const 2))))))))
                          (else (if (i32.eqz (local.get $mode)) (then (f32.store (local.get $at) (f32.const 0))))))
                        (local.set $ox (i32.add (local.get $ox) (i32.const 1)))
                        (br $loop_ox)))))))
              (local.set $oy (i32.add (local.get $oy) (i32.const 1)))
              (br $loop_oy)))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $loop_j)))
          ;; zero the padding columns past nb·oh·ow
          (if (i32.eqz (local.get $mode))
            (then (memory.fill (i32.add (local.get $row) (i32.shl (i32.mul (local.get $nb) (local.get $ohw)) (i32.const 2)))
                               (i32.const 0)
                               (i32.shl (i32.sub (local.get $ld) (i32.mul (local.get $nb) (local.get $ohw))) (i32.const 2)))))
          (local.set $row (i32.add (local.get $row) (i32.shl (local.get $ld) (i32.const 2))))
          (local.set $kx (i32.add (local.get $kx) (i32.const 1)))
          (br $loop_kx)))
        (local.set $ky (i32.add (local.get $ky) (i32.const 1)))
        (br $loop_ky)))
      (local.set $ci (i32.add (local.get $ci) (i32.const 1)))
      (br $loop_c))))
  ;; y[r, j] += bias[j] for rows r < rows and columns j < ld (ld a multiple of 4): the dense layer's bias on a
  ;; padded [rows × ld] output (the padding columns carry bias 0).
  (func (export "row_bias") (param $y i32) (param $bias i32) (param $rows i32) (param $ld i32)
    (local $r i32) (local $j i32) (local $at i32)
    (block $done_r (loop $loop_r
      (br_if $done_r (i32.ge_u (local.get $r) (local.get $rows)))
      (local.set $j (i32.const 0))
      (block $done_j (loop $loop_j
        (br_if $done_j (i32.ge_u (local.get $j) (local.get $ld)))
        (local.set $at (i32.add (local.get $y) (i32.shl (i32.add (i32.mul (local.get $r) (local.get $ld)) (local.get $j)) (i32.const 2))))
        (v128.store (local.get $at) (f32x4.add (v128.load (local.get $at))
          (v128.load (i32.add (local.get $bias) (i32.shl (local.get $j) (i32.const 2))))))
        (local.set $j (i32.add (local.get $j) (i32.const 4)))
        (br $loop_j)))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $loop_r))))

  ;; Copies `rows` rows of `len` floats from a matrix with row stride $sld to one with row stride $dld.
  (func (export "copy_rows") (param $src i32) (param $dst i32) (param $rows i32) (param $len i32) (param $sld i32) (param $dld i32)
    (local $r i32)
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $r) (local.get $rows)))
      (call $run
        (i32.add (local.get $src) (i32.shl (i32.mul (local.get $r) (local.get $sld)) (i32.const 2)))
        (i32.add (local.get $dst) (i32.shl (i32.mul (local.get $r) (local.get $dld)) (i32.const 2)))
        (local.get $len))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $l))))
  ;; Backward of relu from its output: dy[i] = y[i] > 0 ? dy[i] : 0, in place, n a multiple of 4.
  (func (export "relu_grad") (param $y i32) (param $dy i32) (param $n i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $y) (i32.shl (local.get $n) (i32.const 2))))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $y) (local.get $end)))
      (v128.store (local.get $dy)
        (v128.and (f32x4.gt (v128.load (local.get $y)) (v128.const f32x4 0 0 0 0)) (v128.load (local.get $dy))))
      (local.set $y (i32.add (local.get $y) (i32.const 16)))
      (local.set $dy (i32.add (local.get $dy) (i32.const 16)))
      (br $l))))

  ;; dst[c, r] = src[r, c] for a [rows × cols] matrix with row stride $sld into one with row stride $dld.
  (func (export "transpose") (param $src i32) (param $dst i32) (param $rows i32) (param $cols i32) (param $sld i32) (param $dld i32)
    (local $r i32) (local $c i32) (local $srow i32)
    (block $done_r (loop $loop_r
      (br_if $done_r (i32.ge_u (local.get $r) (local.get $rows)))
      (local.set $srow (i32.add (local.get $src) (i32.shl (i32.mul (local.get $r) (local.get $sld)) (i32.const 2))))
      (local.set $c (i32.const 0))
      (block $done_c (loop $loop_c
        (br_if $done_c (i32.ge_u (local.get $c) (local.get $cols)))
        (f32.store (i32.add (local.get $dst) (i32.shl (i32.add (i32.mul (local.get $c) (local.get $dld)) (local.get $r)) (i32.const 2)))
          (f32.load (i32.add (local.get $srow) (i32.shl (local.get $c) (i32.const 2)))))
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br $loop_c)))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $loop_r))))

  ;; Direct stride-1 convolution on one zero-padded image (the first layers: few input channels, where im2col
  ;; costs as much as the product). $xp holds c planes of hp × wp floats (the padding already in place) and
  ;; enough slack after the last plane for 16 + k floats of over-read. Output pixel q = oy·wp + ox of channel o
  ;; is Σ_{ci, ky, kx} w[o, ci, ky, kx] · xp[ci, q + ky·wp + kx]: with rows kept at the padded width, every tap
  ;; is one contiguous run, so 16 pixels take four vector loads per tap. Columns ox ≥ ow and pixels past oh·wp
  ;; are computed too and discarded by the host. Channels go in pairs (8 accumulators: 2 channels × 16 pixels);
  ;; $w holds, per pair, (ci, ky, kx)-ordered (w[o], w[o+1]) couples, the odd channel count padded with zeros.
  ;; $y gets ceil2(oc) planes of $nq floats ($nq a multiple of 16). Sums run in (ci, ky, kx) order, as im2col +
  ;; GEMM (and the reference) sum them, with separate multiply and add.
  (func (export "conv_direct") (param $xp i32) (param $w i32) (param $y i32) (param $c i32) (param $pairs i32)
                               (param $hp i32) (param $wp i32) (param $k i32) (param $nq i32)
    (local $gp i32) (local $q i32) (local $ci i32) (local $ky i32) (local $kx i32)
    (local $pw i32) (local $row i32) (local $at i32) (local $plane i32) (local $out i32)
    (local $s0 v128) (local $s1 v128) (local $v0 v128) (local $v1 v128) (local $v2 v128) (local $v3 v128)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local $b0 v128) (local $b1 v128) (local $b2 v128) (local $b3 v128)
    (local.set $plane (i32.shl (i32.mul (local.get $hp) (local.get $wp)) (i32.const 2)))
    (block $done_g (loop $loop_g
      (br_if $done_g (i32.ge_u (local.get $gp) (local.get $pairs)))
      (local.set $q (i32.const 0))
      (block $done_q (loop $loop_q
        (br_if $done_q (i32.ge_u (local.get $q) (local.get $nq)))
        (local.set $a0 (v128.const i32x4 0 0 0 0)) (local.set $a1 (v128.const i32x4 0 0 0 0))
        (local.set $a2 (v128.const i32x4 0 0 0 0)) (local.set $a3 (v128.const i32x4 0 0 0 0))
        (local.set $b0 (v128.const i32x4 0 0 0 0)) (local.set $b1 (v128.const i32x4 0 0 0 0))
        (local.set $b2 (v128.const i32x4 0 0 0 0)) (local.set $b3 (v128.const i32x4 0 0 0 0))
        ;; weights of this pair: c·k·k couples
        (local.set $pw (i32.add (local.get $w) (i32.shl (i32.mul (local.get $gp) (i32.mul (local.get $c) (i32.mul (local.get $k) (local.get $k)))) (i32.const 3))))
        (local.set $ci (i32.const 0))
        (block $done_c (loop $loop_c
          (br_if $done_c (i32.ge_u (local.get $ci) (local.get $c)))
          (local.set $row (i32.add (i32.add (local.get $xp) (i32.mul (local.get $ci) (local.get $plane))) (i32.shl (local.get $q) (i32.const 2))))
          (local.set $ky (i32.const 0))
          (block $done_y (loop $loop_y
            (br_if $done_y (i32.ge_u (local.get $ky) (local.get $k)))
            (local.set $at (local.get $row))
            (local.set $kx (local.get $k))
            (block $done_x (loop $loop_x
              (br_if $done_x (i32.eqz (local.get $kx)))
              (local.set $s0 (v128.load32_splat (local.get $pw)))
              (local.set $s1 (v128.load32_splat offset=4 (local.get $pw)))
              (local.set $v0 (v128.load (local.get $at)))
              (local.set $v1 (v128.load offset=16 (local.get $at)))
              (local.set $v2 (v128.load offset=32 (local.get $at)))
              (local.set $v3 (v128.load offset=48 (local.get $at)))
              (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $s0) (local.get $v0))))
              (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (local.get $s0) (local.get $v1))))
              (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (local.get $s0) (local.get $v2))))
              (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (local.get $s0) (local.get $v3))))
              (local.set $b0 (f32x4.add (local.get $b0) (f32x4.mul (local.get $s1) (local.get $v0))))
              (local.set $b1 (f32x4.add (local.get $b1) (f32x4.mul (local.get $s1) (local.get $v1))))
              (local.set $b2 (f32x4.add (local.get $b2) (f32x4.mul (local.get $s1) (local.get $v2))))
              (local.set $b3 (f32x4.add (local.get $b3) (f32x4.mul (local.get $s1) (local.get $v3))))
              (local.set $pw (i32.add (local.get $pw) (i32.const 8)))
              (local.set $at (i32.add (local.get $at) (i32.const 4)))
              (local.set $kx (i32.sub (local.get $kx) (i32.const 1)))
              (br $loop_x)))
            (local.set $row (i32.add (local.get $row) (i32.shl (local.get $wp) (i32.const 2))))
            (local.set $ky (i32.add (local.get $ky) (i32.const 1)))
            (br $loop_y)))
          (local.set $ci (i32.add (local.get $ci) (i32.const 1)))
          (br $loop_c)))
        ;; channel 2·gp at plane 2·gp, channel 2·gp + 1 one plane further
        (local.set $out (i32.add (local.get $y) (i32.shl (i32.add (i32.mul (i32.shl (local.get $gp) (i32.const 1)) (local.get $nq)) (local.get $q)) (i32.const 2))))
        (v128.store (local.get $out) (local.get $a0))
        (v128.store offset=16 (local.get $out) (local.get $a1))
        (v128.store offset=32 (local.get $out) (local.get $a2))
        (v128.store offset=48 (local.get $out) (local.get $a3))
        (local.set $out (i32.add (local.get $out) (i32.shl (local.get $nq) (i32.const 2))))
        (v128.store (local.get $out) (local.get $b0))
        (v128.store offset=16 (local.get $out) (local.get $b1))
        (v128.store offset=32 (local.get $out) (local.get $b2))
        (v128.store offset=48 (local.get $out) (local.get $b3))
        (local.set $q (i32.add (local.get $q) (i32.const 16)))
        (br $loop_q)))
      (local.set $gp (i32.add (local.get $gp) (i32.const 1)))
      (br $loop_g))))
)
