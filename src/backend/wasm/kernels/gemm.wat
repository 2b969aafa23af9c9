;; GEMM family: the register-blocked 4×8 sgemm, its one-row twin for the rows a 4-row tile would pad, and the
;; row copies and transposes its host (gemm.ts) packs operands with.

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

  ;; C[m×n] = (acc ? C : 0) + A[m×k] · B[k×n] one row at a time, for any m (n a multiple of 8, rows 16-byte
  ;; aligned): the rows a 4-row tile would pad. A batch of one image through a dense layer is a single row; the
  ;; 4×8 kernel would compute three zero rows beside it. Each 1×8 tile keeps two accumulators over the whole k
  ;; loop, summing in p order with separate mul and add like sgemm, so every element is bit-identical to it.
  (func (export "sgemm_row") (param $a i32) (param $b i32) (param $c i32) (param $m i32) (param $n i32) (param $k i32)
                             (param $lda i32) (param $ldb i32) (param $ldc i32) (param $acc i32)
    (local $i i32) (local $j i32) (local $p i32) (local $pa i32) (local $pb i32) (local $pc i32)
    (local $rowa i32) (local $rowb i32) (local $rowc i32)
    (local $s v128) (local $c0 v128) (local $c1 v128)
    (local.set $rowa (i32.shl (local.get $lda) (i32.const 2)))
    (local.set $rowb (i32.shl (local.get $ldb) (i32.const 2)))
    (local.set $rowc (i32.shl (local.get $ldc) (i32.const 2)))
    (block $done_i (loop $loop_i
      (br_if $done_i (i32.ge_u (local.get $i) (local.get $m)))
      (local.set $j (i32.const 0))
      (block $done_j (loop $loop_j
        (br_if $done_j (i32.ge_u (local.get $j) (local.get $n)))
        ;; pc = &C[i, j]
        (local.set $pc (i32.add (local.get $c)
          (i32.add (i32.mul (local.get $i) (local.get $rowc)) (i32.shl (local.get $j) (i32.const 2)))))
        (if (local.get $acc)
          (then
            (local.set $c0 (v128.load (local.get $pc)))
            (local.set $c1 (v128.load offset=16 (local.get $pc))))
          (else
            (local.set $c0 (v128.const i32x4 0 0 0 0))
            (local.set $c1 (v128.const i32x4 0 0 0 0))))
        (local.set $pa (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $rowa))))
        (local.set $pb (i32.add (local.get $b) (i32.shl (local.get $j) (i32.const 2))))
        (local.set $p (local.get $k))
        (block $done_p (loop $loop_p
          (br_if $done_p (i32.eqz (local.get $p)))
          (local.set $s (f32x4.splat (f32.load (local.get $pa))))
          (local.set $c0 (f32x4.add (local.get $c0) (f32x4.mul (local.get $s) (v128.load (local.get $pb)))))
          (local.set $c1 (f32x4.add (local.get $c1) (f32x4.mul (local.get $s) (v128.load offset=16 (local.get $pb)))))
          (local.set $pa (i32.add (local.get $pa) (i32.const 4)))
          (local.set $pb (i32.add (local.get $pb) (local.get $rowb)))
          (local.set $p (i32.sub (local.get $p) (i32.const 1)))
          (br $loop_p)))
        (v128.store (local.get $pc) (local.get $c0))
        (v128.store offset=16 (local.get $pc) (local.get $c1))
        (local.set $j (i32.add (local.get $j) (i32.const 8)))
        (br $loop_j)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $loop_i))))

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
