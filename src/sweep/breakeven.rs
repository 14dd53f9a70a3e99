//! Where a paired difference crosses zero (docs/sweeps.md, `relsim breakeven`): along one
//! parameter, the crossing with a confidence interval; over two, the zero contour.
//!
//! Pure functions over measured means and intervals at grid points. Between grid points the
//! difference and its interval bounds are interpolated linearly; with common random numbers
//! across points the measured curve is smooth, so a grid of a dozen points locates a crossing
//! well within its interval.

use crate::stats::Interval;

/// Which way the difference goes through zero as the parameter rises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Rising,
    Falling,
}

/// A zero crossing of a paired difference along one parameter.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Crossing {
    /// Where the mean difference is zero.
    pub at: f64,
    /// The ends of the stretch around it where the 95 % interval of the difference contains
    /// zero; `None` where that stretch runs past the end of the range.
    pub low: Option<f64>,
    pub high: Option<f64>,
    pub direction: Direction,
}

/// `x` where the line through `(x0, y0)` and `(x1, y1)` is zero.
fn zero_between(x0: f64, y0: f64, x1: f64, y1: f64) -> f64 {
    if y0 == y1 {
        return 0.5 * (x0 + x1);
    }
    x0 + (x1 - x0) * y0 / (y0 - y1)
}

/// Whether the interval contains zero.
fn undecided(i: &Interval) -> bool {
    i.ci_low <= 0.0 && i.ci_high >= 0.0
}

/// Every crossing of zero by the mean of `difference` measured at the increasing points `x`.
pub fn crossings(x: &[f64], difference: &[Interval]) -> Vec<Crossing> {
    let n = x.len().min(difference.len());
    let mut found = Vec::new();
    for j in 0..n.saturating_sub(1) {
        let (d0, d1) = (difference[j].mean, difference[j + 1].mean);
        let direction = if d0 < 0.0 && d1 >= 0.0 {
            Direction::Rising
        } else if d0 > 0.0 && d1 <= 0.0 {
            Direction::Falling
        } else {
            continue;
        };
        let at = zero_between(x[j], d0, x[j + 1], d1);
        found.push(Crossing {
            at,
            low: band_end(x, difference, j, at, Side::Below),
            high: band_end(x, difference, j + 1, at, Side::Above),
            direction,
        });
    }
    found
}

#[derive(Clone, Copy)]
enum Side {
    Below,
    Above,
}

/// From grid point `start` outwards (down for `Below`, up for `Above`), the first place where
/// the interval no longer contains zero, interpolated between grid points; `None` if it
/// contains zero up to the end of the range.
fn band_end(x: &[f64], d: &[Interval], start: usize, at: f64, side: Side) -> Option<f64> {
    let n = x.len().min(d.len());
    let mut inner_x = at;
    let mut inner = None::<usize>;
    let mut j = start as isize;
    while j >= 0 && (j as usize) < n {
        let i = &d[j as usize];
        if !undecided(i) {
            // The bound that is on the wrong side of zero here crosses zero between here and
            // the previous point (or the crossing itself).
            let bound = |k: &Interval| if i.ci_low > 0.0 { k.ci_low } else { k.ci_high };
            let here = bound(i);
            let (x_in, inside) = match inner {
                Some(k) => (x[k], bound(&d[k])),
                // The crossing point lies between `start` and its neighbour: take the bound
                // there by interpolation.
                None => {
                    let other = match side {
                        Side::Below => (j + 1) as usize,
                        Side::Above => (j - 1) as usize,
                    };
                    let t = (at - x[j as usize]) / (x[other] - x[j as usize]);
                    (at, here + t * (bound(&d[other]) - here))
                }
            };
            if inside.signum() == here.signum() {
                // The bound never reached zero in between: the stretch ends at the crossing.
                return Some(inner_x);
            }
            return Some(zero_between(x_in, inside, x[j as usize], here));
        }
        inner = Some(j as usize);
        inner_x = x[j as usize];
        j += match side {
            Side::Below => -1,
            Side::Above => 1,
        };
    }
    None
}

/// One segment of a zero contour.
pub type Segment = ((f64, f64), (f64, f64));

/// The zero contour of `values[row][col]` measured at columns `x` and rows `y`, by marching
/// squares with linear interpolation along cell edges.
pub fn zero_contour(x: &[f64], y: &[f64], values: &[Vec<f64>]) -> Vec<Segment> {
    let mut segments = Vec::new();
    for r in 0..y.len().saturating_sub(1) {
        for c in 0..x.len().saturating_sub(1) {
            // Corners counter-clockwise from bottom left.
            let corners = [
                (x[c], y[r], values[r][c]),
                (x[c + 1], y[r], values[r][c + 1]),
                (x[c + 1], y[r + 1], values[r + 1][c + 1]),
                (x[c], y[r + 1], values[r + 1][c]),
            ];
            if corners.iter().any(|p| !p.2.is_finite()) {
                continue;
            }
            let mut hits = Vec::with_capacity(4);
            for e in 0..4 {
                let (x0, y0, v0) = corners[e];
                let (x1, y1, v1) = corners[(e + 1) % 4];
                if (v0 < 0.0) != (v1 < 0.0) {
                    let t = v0 / (v0 - v1);
                    hits.push((x0 + t * (x1 - x0), y0 + t * (y1 - y0)));
                }
            }
            match hits.len() {
                2 => segments.push((hits[0], hits[1])),
                // A saddle: pair the hits by the cell's mean.
                4 => {
                    let centre = corners.iter().map(|p| p.2).sum::<f64>() / 4.0;
                    if (centre < 0.0) == (corners[0].2 < 0.0) {
                        segments.push((hits[0], hits[1]));
                        segments.push((hits[2], hits[3]));
                    } else {
                        segments.push((hits[0], hits[3]));
                        segments.push((hits[1], hits[2]));
                    }
                }
                _ => {}
            }
        }
    }
    segments
}

#[cfg(test)]
mod tests {
    use super::*;

    fn around(mean: f64, half_width: f64) -> Interval {
        Interval {
            mean,
            sd: 0.0,
            ci_low: mean - half_width,
            ci_high: mean + half_width,
            n: 10,
        }
    }

    /// `d(x) = x − 3` with a half-width of 0.5: crosses at 3, undecided on [2.5, 3.5].
    #[test]
    fn a_linear_difference_crosses_where_it_should_with_its_band() {
        let x: Vec<f64> = (0..=10).map(f64::from).collect();
        let d: Vec<Interval> = x.iter().map(|&x| around(x - 3.0, 0.5)).collect();
        let found = crossings(&x, &d);
        assert_eq!(found.len(), 1);
        let c = found[0];
        assert_eq!(c.direction, Direction::Rising);
        assert!((c.at - 3.0).abs() < 1e-12);
        assert!((c.low.unwrap() - 2.5).abs() < 1e-12, "{c:?}");
        assert!((c.high.unwrap() - 3.5).abs() < 1e-12, "{c:?}");
        // Falling, on a coarse grid whose points do not hit the crossing.
        let x = [0.0, 2.0, 4.0, 6.0];
        let d: Vec<Interval> = x.iter().map(|&x| around(3.0 - x, 1.5)).collect();
        let c = crossings(&x, &d)[0];
        assert_eq!(c.direction, Direction::Falling);
        assert!((c.at - 3.0).abs() < 1e-12);
        assert!((c.low.unwrap() - 1.5).abs() < 1e-12, "{c:?}");
        assert!((c.high.unwrap() - 4.5).abs() < 1e-12, "{c:?}");
    }

    #[test]
    fn a_band_that_runs_past_the_range_is_open_and_no_sign_change_is_no_crossing() {
        let x = [0.0, 1.0, 2.0];
        let wide: Vec<Interval> = [-0.5, 0.2, 0.9].iter().map(|&m| around(m, 5.0)).collect();
        let c = crossings(&x, &wide)[0];
        assert_eq!((c.low, c.high), (None, None));
        let positive: Vec<Interval> = [0.5, 0.2, 0.9].iter().map(|&m| around(m, 0.1)).collect();
        assert!(crossings(&x, &positive).is_empty());
    }

    /// `v = x − y` on a grid: the contour is the diagonal.
    #[test]
    fn the_zero_contour_of_x_minus_y_is_the_diagonal() {
        let axis = [0.0, 1.0, 2.0, 3.0];
        let values: Vec<Vec<f64>> = axis
            .iter()
            .map(|&y| axis.iter().map(|&x| x - y + 0.25).collect())
            .collect();
        let segments = zero_contour(&axis, &axis, &values);
        assert!(!segments.is_empty());
        for ((x0, y0), (x1, y1)) in segments {
            assert!((x0 - y0 + 0.25).abs() < 1e-12);
            assert!((x1 - y1 + 0.25).abs() < 1e-12);
        }
    }
}
