;; im2col / col2im: convolution as a matrix product (conv.ts), with the run copies they are built from.

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
    (local $ohw i32) (local $s1 i32) (local $lo i32) (local $hi i32) (local $step i32) (local $ps i32) (local $pd i32) (local $end i32)
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
          ;; ix = ox·s − p + kx is inside [0, w) exactly for ox in [lo, hi), lo = clamp(⌈(p − kx)/s⌉, 0, ow),
          ;; hi = clamp(⌈(w + p − kx)/s⌉, lo, ow) (a ceiling of a negative numerator only matters as "≤ 0")
          (local.set $s1 (i32.eq (local.get $s) (i32.const 1)))
          (local.set $lo (i32.sub (local.get $p) (local.get $kx)))
          (if (i32.lt_s (local.get $lo) (i32.const 0))
            (then (local.set $lo (i32.const 0)))
            (else (local.set $lo (i32.div_u (i32.add (local.get $lo) (i32.sub (local.get $s) (i32.const 1))) (local.get $s)))))
          (if (i32.gt_s (local.get $lo) (local.get $ow)) (then (local.set $lo (local.get $ow))))
          (local.set $hi (i32.sub (i32.add (local.get $w) (local.get $p)) (local.get $kx)))
          (if (i32.lt_s (local.get $hi) (i32.const 0))
            (then (local.set $hi (i32.const 0)))
            (else (local.set $hi (i32.div_u (i32.add (local.get $hi) (i32.sub (local.get $s) (i32.const 1))) (local.get $s)))))
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
                      ;; stride s > 1: the in-row pixels ox in [lo, hi) read every s-th float from src + lo·s, with
                      ;; no bounds test per pixel; im2col zero-fills the padding ends around them
                      (local.set $end (i32.add (local.get $dst) (i32.shl (local.get $hi) (i32.const 2))))
                      (local.set $ps (i32.add (local.get $src) (i32.shl (i32.mul (local.get $lo) (local.get $s)) (i32.const 2))))
                      (local.set $pd (i32.add (local.get $dst) (i32.shl (local.get $lo) (i32.const 2))))
                      (local.set $step (i32.shl (local.get $s) (i32.const 2)))
                      (if (local.get $mode)
                        (then
                          (block $done_a (loop $loop_a
                            (br_if $done_a (i32.ge_u (local.get $pd) (local.get $end)))
                            (f32.store (local.get $ps) (f32.add (f32.load (local.get $ps)) (f32.load (local.get $pd))))
                            (local.set $ps (i32.add (local.get $ps) (local.get $step)))
                            (local.set $pd (i32.add (local.get $pd) (i32.const 4)))
                            (br $loop_a))))
                        (else
                          (if (local.get $lo) (then (memory.fill (local.get $dst) (i32.const 0) (i32.shl (local.get $lo) (i32.const 2)))))
                          (block $done_g (loop $loop_g
                            (br_if $done_g (i32.ge_u (local.get $pd) (local.get $end)))
                            (f32.store (local.get $pd) (f32.load (local.get $ps)))
                            (local.set $ps (i32.add (local.get $ps) (local.get $step)))
                            (local.set $pd (i32.add (local.get $pd) (i32.const 4)))
                            (br $loop_g)))
                          (if (i32.lt_u (local.get $hi) (local.get $ow))
                            (then (memory.fill (local.get $end) (i32.const 0)
                              (i32.shl (i32.sub (local.get $ow) (local.get $hi)) (i32.const 2)))))))))))
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
