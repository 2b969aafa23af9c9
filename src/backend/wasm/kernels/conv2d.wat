;; Direct convolution: the first layers' stride-1 kernel on a zero-padded image.

  ;; Direct stride-1 convolution on one zero-padded image (the first layers: few input channels, where im2col
  ;; costs as much as the product). $xp holds c planes of hp × wp floats (the padding already in place) and
  ;; enough slack after the last plane for 16 + k floats of over-read. Output pixel q = oy·wp + ox of channel o
  ;; is Σ_{ci, ky, kx} w[o, ci, ky, kx] · xp[ci, q + ky·wp + kx]: with rows kept at the padded width, every tap
  ;; is one contiguous run, so 16 pixels take four vector loads per tap. Columns ox ≥ ow and pixels past oh·wp
  ;; are computed too and discarded by the host. Channels go in pairs (8 accumulators: 2 channels × 16 pixels);
  ;; $w holds, per pair, (ci, ky, kx)-ordered (w[o], w[o+1]) couples, the odd channel count padded with zeros.
  ;; $y gets ceil2(oc) planes of $nq floats ($nq a multiple of 16). Sums run in (ci, ky, kx) order, as im2col +
  ;; GEMM (and the reference) sum them, with separate multiply and add.
  (func (export "conv2d_direct") (param $xp i32) (param $w i32) (param $y i32) (param $c i32) (param $pairs i32)
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
