;; Max pooling family: the 2×2 stride-2 fast paths (forward and backward) and the general k×k window.

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
  (func $max_pool2d_2x2 (param $x i32) (param $y i32) (param $planes i32) (param $h i32) (param $w i32) (param $oh i32) (param $ow i32)
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
  (func $max_pool2d_2x2_grad (param $x i32) (param $dy i32) (param $dx i32) (param $planes i32) (param $h i32) (param $w i32) (param $oh i32) (param $ow i32)
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
  (func (export "max_pool2d") (param $backward i32) (param $x i32) (param $dy i32) (param $y i32) (param $planes i32) (param $h i32) (param $w i32)
                            (param $k i32) (param $s i32) (param $oh i32) (param $ow i32)
    (local $p i32) (local $oy i32) (local $ox i32) (local $plane i32) (local $best i32) (local $at i32)
    (if (i32.and (i32.eq (local.get $k) (i32.const 2)) (i32.eq (local.get $s) (i32.const 2)))
      (then
        (if (local.get $backward)
          (then (call $max_pool2d_2x2_grad (local.get $x) (local.get $dy) (local.get $y) (local.get $planes) (local.get $h) (local.get $w) (local.get $oh) (local.get $ow)))
          (else (call $max_pool2d_2x2 (local.get $x) (local.get $y) (local.get $planes) (local.get $h) (local.get $w) (local.get $oh) (local.get $ow))))
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
