;; Elementwise family: relu and its gradient, add / sub / mul (tensor and scalar forms), scalar compares.

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

  ;; Backward of relu from its output: dy[i] = y[i] > 0 ? dy[i] : 0, in place, n a multiple of 4.
  (func (export "relu_grad_input") (param $y i32) (param $dy i32) (param $n i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $y) (i32.shl (local.get $n) (i32.const 2))))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $y) (local.get $end)))
      (v128.store (local.get $dy)
        (v128.and (f32x4.gt (v128.load (local.get $y)) (v128.const f32x4 0 0 0 0)) (v128.load (local.get $dy))))
      (local.set $y (i32.add (local.get $y) (i32.const 16)))
      (local.set $dy (i32.add (local.get $dy) (i32.const 16)))
      (br $l))))
