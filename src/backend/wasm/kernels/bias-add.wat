;; Bias family: the NCHW per-channel bias add and the dense layer's per-column bias on padded rows.

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

  ;; y[r, j] += bias[j] for rows r < rows and columns j < ld (ld a multiple of 4): the dense layer's bias on a
  ;; padded [rows × ld] output (the padding columns carry bias 0).
  (func (export "bias_add_rows") (param $y i32) (param $bias i32) (param $rows i32) (param $ld i32)
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
