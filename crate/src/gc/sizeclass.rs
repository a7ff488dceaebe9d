//! Size classes (Go's `sizeclasses.go`): the object sizes small allocations are rounded up to,
//! and how many pages a span of each class spans.
//!
//! # Invariants (checked by the tests)
//! * `CLASS_SIZE` is strictly increasing, every size is a multiple of 8, the largest is
//!   [`MAX_SMALL`]; class 0 is "large" (an object on its own run of pages).
//! * Every span holds at least one object and wastes at most 1/8 of its bytes at its tail.
//! * [`class_of`] maps every size in `1..=MAX_SMALL` to the smallest class that fits it.
//! * [`Span::index_of`](super::heap::Span) divides by the class size with a multiply and shift:
//!   `DIV_MUL[c] = u32::MAX / size + 1`, exact for every offset inside a span of class `c`.
//!
//! The table is Go's (67 classes from 8 B to 32 KiB, 12.5% worst tail waste); the lookup is
//! Go's two-level one: sizes up to 1024 in steps of 8, above that in steps of 128, both built
//! at compile time.

/// Pages are 8 KiB, as in Go.
pub(crate) const PAGE_SHIFT: usize = 13;
pub(crate) const PAGE_SIZE: usize = 1 << PAGE_SHIFT;
/// Larger objects get their own run of pages.
pub(crate) const MAX_SMALL: usize = 32 << 10;
pub(crate) const NUM_CLASSES: usize = 68;

/// Object size of each class (0: large objects).
pub(crate) const CLASS_SIZE: [u32; NUM_CLASSES] = [
    0, 8, 16, 24, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208, 224, 240, 256, 288, 320, 352, 384,
    416, 448, 480, 512, 576, 640, 704, 768, 896, 1024, 1152, 1280, 1408, 1536, 1792, 2048, 2304, 2688, 3072,
    3200, 3456, 4096, 4864, 5376, 6144, 6528, 6784, 6912, 8192, 9472, 9728, 10240, 10880, 12288, 13568,
    14336, 16384, 18432, 19072, 20480, 21760, 24576, 27264, 28672, 32768,
];

/// Pages per span of each class.
pub(crate) const CLASS_PAGES: [u8; NUM_CLASSES] = [
    0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    2, 1, 2, 1, 2, 1, 3, 2, 3, 1, 3, 2, 3, 4, 5, 6, 1, 7, 6, 5, 4, 3, 5, 7, 2, 9, 7, 5, 8, 3, 10, 7, 4,
];

/// Multipliers for dividing an offset by the class size (Go's `divMul`).
pub(crate) const DIV_MUL: [u32; NUM_CLASSES] = {
    let mut t = [0u32; NUM_CLASSES];
    let mut c = 1;
    while c < NUM_CLASSES {
        t[c] = u32::MAX / CLASS_SIZE[c] + 1;
        c += 1;
    }
    t
};

const SMALL_MAX: usize = 1024;
const SMALL_STEP: usize = 8;
const LARGE_STEP: usize = 128;

/// Class by `ceil(size / 8)`, for sizes up to 1024.
const BY_8: [u8; SMALL_MAX / SMALL_STEP + 1] = {
    let mut t = [0u8; SMALL_MAX / SMALL_STEP + 1];
    let mut i = 1;
    let mut c = 1;
    while i < t.len() {
        while (CLASS_SIZE[c] as usize) < i * SMALL_STEP {
            c += 1;
        }
        t[i] = c as u8;
        i += 1;
    }
    t
};

/// Class by `ceil((size - 1024) / 128)`, for sizes above 1024.
const BY_128: [u8; (MAX_SMALL - SMALL_MAX) / LARGE_STEP + 1] = {
    let mut t = [0u8; (MAX_SMALL - SMALL_MAX) / LARGE_STEP + 1];
    let mut i = 0;
    let mut c = 1;
    while i < t.len() {
        while (CLASS_SIZE[c] as usize) < SMALL_MAX + i * LARGE_STEP {
            c += 1;
        }
        t[i] = c as u8;
        i += 1;
    }
    t
};

/// The smallest class whose objects hold `size` bytes (`1..=MAX_SMALL`).
#[inline]
pub(crate) fn class_of(size: usize) -> usize {
    debug_assert!((1..=MAX_SMALL).contains(&size));
    if size <= SMALL_MAX {
        BY_8[size.div_ceil(SMALL_STEP)] as usize
    } else {
        BY_128[(size - SMALL_MAX).div_ceil(LARGE_STEP)] as usize
    }
}

/// The class for an object of `size` bytes whose slots must be `align`-aligned (slots start
/// at multiples of the class size from a page boundary), or `None`: a large object.
#[inline]
pub(crate) fn class_for(size: usize, align: usize) -> Option<usize> {
    if size > MAX_SMALL {
        return None;
    }
    let mut c = class_of(size.max(1));
    while !(CLASS_SIZE[c] as usize).is_multiple_of(align) {
        c += 1;
        if c == NUM_CLASSES {
            return None;
        }
    }
    Some(c)
}

/// Bytes in a span of class `c`.
pub(crate) fn span_bytes(c: usize) -> usize {
    CLASS_PAGES[c] as usize * PAGE_SIZE
}

/// Objects in a span of class `c`.
pub(crate) fn objects_per_span(c: usize) -> usize {
    span_bytes(c) / CLASS_SIZE[c] as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_invariants() {
        assert_eq!(CLASS_SIZE[NUM_CLASSES - 1] as usize, MAX_SMALL);
        for c in 1..NUM_CLASSES {
            let size = CLASS_SIZE[c] as usize;
            assert_eq!(size % 8, 0, "class {c}");
            assert!(size > CLASS_SIZE[c - 1] as usize, "class {c} is not larger than {}", c - 1);
            let n = objects_per_span(c);
            assert!(n >= 1, "class {c}");
            let tail = span_bytes(c) - n * size;
            assert!(tail * 8 <= span_bytes(c), "class {c} wastes {tail} of {}", span_bytes(c));
        }
    }

    #[test]
    fn every_size_maps_to_the_smallest_class_that_fits() {
        for size in 1..=MAX_SMALL {
            let c = class_of(size);
            assert!(CLASS_SIZE[c] as usize >= size, "size {size} in class {c}");
            assert!((CLASS_SIZE[c - 1] as usize) < size, "size {size} fits class {}", c - 1);
        }
    }

    #[test]
    fn aligned_classes_have_aligned_slots() {
        for align in [8, 16, 32, 64, 128, 256, 512, 1024, 4096, 8192] {
            for size in (1..=MAX_SMALL).step_by(37) {
                match class_for(size, align) {
                    Some(c) => {
                        assert!(CLASS_SIZE[c] as usize >= size);
                        assert!((CLASS_SIZE[c] as usize).is_multiple_of(align));
                    }
                    None => assert!(CLASS_SIZE[class_of(size)..]
                        .iter()
                        .all(|&s| !(s as usize).is_multiple_of(align))),
                }
            }
        }
        assert_eq!(class_for(MAX_SMALL + 1, 8), None);
        assert_eq!(class_for(24, 8), Some(3));
        assert_eq!(class_for(24, 16), Some(4));
    }

    #[test]
    fn div_mul_divides_exactly_inside_spans() {
        for c in 1..NUM_CLASSES {
            let size = CLASS_SIZE[c] as u64;
            for off in (0..span_bytes(c) as u64).step_by(8) {
                assert_eq!((off * DIV_MUL[c] as u64) >> 32, off / size, "class {c} offset {off}");
            }
        }
    }
}
