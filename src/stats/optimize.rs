//! Derivative-free minimisation (Nelder & Mead 1965, with the standard coefficients: reflection
//! 1, expansion 2, contraction ½, shrink ½), and the response-surface Hessian behind standard
//! errors.
//! Pure functions of the objective; used by `relsim calibrate` (docs/calibration.md).

/// When to stop.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NelderMeadOptions {
    /// Stop when the objective differs by less than this across the simplex…
    pub f_tolerance: f64,
    /// …and every vertex is within this of the best in every coordinate.
    pub x_tolerance: f64,
    /// Stop after this many evaluations whatever the simplex.
    pub max_evaluations: usize,
}

impl Default for NelderMeadOptions {
    fn default() -> Self {
        Self {
            f_tolerance: 1e-10,
            x_tolerance: 1e-8,
            max_evaluations: 5_000,
        }
    }
}

/// The best point found.
#[derive(Debug, Clone, PartialEq)]
pub struct Minimum {
    pub x: Vec<f64>,
    pub value: f64,
    pub evaluations: usize,
    /// Whether the tolerances were met (rather than the evaluation budget spent).
    pub converged: bool,
}

/// Minimises `f` from `start`, with an initial simplex of `start` and `start + steps[i]·eᵢ`.
pub fn nelder_mead(
    mut f: impl FnMut(&[f64]) -> f64,
    start: &[f64],
    steps: &[f64],
    options: &NelderMeadOptions,
) -> Minimum {
    let n = start.len();
    let mut evaluations = 0usize;
    let mut evaluate = |x: &[f64], evaluations: &mut usize| {
        *evaluations += 1;
        let value = f(x);
        // A point where the objective is undefined is as bad as it gets.
        if value.is_nan() {
            f64::INFINITY
        } else {
            value
        }
    };
    let mut simplex: Vec<(Vec<f64>, f64)> = Vec::with_capacity(n + 1);
    let value = evaluate(start, &mut evaluations);
    simplex.push((start.to_vec(), value));
    for i in 0..n {
        let mut x = start.to_vec();
        x[i] += steps[i];
        let value = evaluate(&x, &mut evaluations);
        simplex.push((x, value));
    }
    let mut converged = false;
    while evaluations < options.max_evaluations {
        simplex.sort_by(|a, b| a.1.total_cmp(&b.1));
        let best = simplex[0].1;
        let worst = simplex[n].1;
        let spread = simplex
            .iter()
            .flat_map(|(x, _)| x.iter().zip(&simplex[0].0).map(|(a, b)| (a - b).abs()))
            .fold(0.0f64, f64::max);
        if (worst - best).abs() <= options.f_tolerance && spread <= options.x_tolerance {
            converged = true;
            break;
        }
        // Centroid of all but the worst.
        let centroid: Vec<f64> = (0..n)
            .map(|j| simplex[..n].iter().map(|(x, _)| x[j]).sum::<f64>() / n as f64)
            .collect();
        let towards = |coefficient: f64| -> Vec<f64> {
            centroid
                .iter()
                .zip(&simplex[n].0)
                .map(|(c, w)| c + coefficient * (c - w))
                .collect()
        };
        let reflected = towards(1.0);
        let f_reflected = evaluate(&reflected, &mut evaluations);
        if f_reflected < best {
            let expanded = towards(2.0);
            let f_expanded = evaluate(&expanded, &mut evaluations);
            simplex[n] = if f_expanded < f_reflected {
                (expanded, f_expanded)
            } else {
                (reflected, f_reflected)
            };
            continue;
        }
        if f_reflected < simplex[n - 1].1 {
            simplex[n] = (reflected, f_reflected);
            continue;
        }
        // Contract: outside if the reflection improved on the worst, else inside.
        let (contracted, f_contracted) = if f_reflected < worst {
            let x = towards(0.5);
            let value = evaluate(&x, &mut evaluations);
            (x, value)
        } else {
            let x = towards(-0.5);
            let value = evaluate(&x, &mut evaluations);
            (x, value)
        };
        if f_contracted < worst.min(f_reflected) {
            simplex[n] = (contracted, f_contracted);
            continue;
        }
        // Shrink towards the best.
        let best_x = simplex[0].0.clone();
        for vertex in simplex.iter_mut().skip(1) {
            let x: Vec<f64> = best_x
                .iter()
                .zip(&vertex.0)
                .map(|(b, v)| b + 0.5 * (v - b))
                .collect();
            let value = evaluate(&x, &mut evaluations);
            *vertex = (x, value);
        }
    }
    simplex.sort_by(|a, b| a.1.total_cmp(&b.1));
    let (x, value) = simplex.swap_remove(0);
    Minimum {
        x,
        value,
        evaluations,
        converged,
    }
}

/// The Hessian of `f` at `x` from a quadratic fitted by least squares to `f` on a central
/// composite design around `x` (the centre, `±h` and `±2h` along each axis, and `±h` along
/// every pair of axes), row-major `n × n`. Where `f` is a simulation with small jumps (common
/// random numbers still flip a few draws as parameters move), the fitted surface averages them
/// out; central differences would amplify them. `None` if the design cannot determine the
/// quadratic.
pub fn response_surface_hessian(
    mut f: impl FnMut(&[f64]) -> f64,
    x: &[f64],
    h: &[f64],
) -> Option<Vec<f64>> {
    let n = x.len();
    // Displacements in units of h.
    let mut design: Vec<Vec<f64>> = vec![vec![0.0; n]];
    for i in 0..n {
        for step in [-2.0, -1.0, 1.0, 2.0] {
            let mut d = vec![0.0; n];
            d[i] = step;
            design.push(d);
        }
        for j in 0..i {
            for (si, sj) in [(1.0, 1.0), (1.0, -1.0), (-1.0, 1.0), (-1.0, -1.0)] {
                let mut d = vec![0.0; n];
                d[i] = si;
                d[j] = sj;
                design.push(d);
            }
        }
    }
    // Columns: 1, dᵢ, then ½dᵢ² and dᵢdⱼ (i > j), so the coefficients of the last block are the
    // Hessian's entries in units of h.
    let row_of = |d: &[f64]| -> Vec<f64> {
        let mut row = vec![1.0];
        row.extend_from_slice(d);
        for i in 0..n {
            row.push(0.5 * d[i] * d[i]);
            for j in 0..i {
                row.push(d[i] * d[j]);
            }
        }
        row
    };
    let p = 1 + n + n * (n + 1) / 2;
    let mut normal = vec![0.0; p * p];
    let mut rhs = vec![0.0; p];
    for d in &design {
        let point: Vec<f64> = x
            .iter()
            .zip(d)
            .zip(h)
            .map(|((xi, di), hi)| xi + di * hi)
            .collect();
        let value = f(&point);
        if !value.is_finite() {
            return None;
        }
        let row = row_of(d);
        for a in 0..p {
            rhs[a] += row[a] * value;
            for b in 0..p {
                normal[a * p + b] += row[a] * row[b];
            }
        }
    }
    let inverse = inverse_positive_definite(&normal, p)?;
    let coefficients: Vec<f64> = (0..p)
        .map(|a| (0..p).map(|b| inverse[a * p + b] * rhs[b]).sum())
        .collect();
    let mut hessian = vec![0.0; n * n];
    let mut k = 1 + n;
    for i in 0..n {
        hessian[i * n + i] = coefficients[k] / (h[i] * h[i]);
        k += 1;
        for j in 0..i {
            let value = coefficients[k] / (h[i] * h[j]);
            hessian[i * n + j] = value;
            hessian[j * n + i] = value;
            k += 1;
        }
    }
    Some(hessian)
}

/// The inverse of a symmetric positive-definite `n × n` matrix (row-major) by Cholesky, or
/// `None` if it is not positive definite (a parameter the data do not identify).
pub fn inverse_positive_definite(matrix: &[f64], n: usize) -> Option<Vec<f64>> {
    // Cholesky: matrix = L·Lᵀ.
    let mut l = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..=i {
            let sum: f64 = (0..j).map(|k| l[i * n + k] * l[j * n + k]).sum();
            if i == j {
                let d = matrix[i * n + i] - sum;
                if !(d > 0.0 && d.is_finite()) {
                    return None;
                }
                l[i * n + i] = d.sqrt();
            } else {
                l[i * n + j] = (matrix[i * n + j] - sum) / l[j * n + j];
            }
        }
    }
    // Solve L·Lᵀ·X = I column by column.
    let mut inverse = vec![0.0; n * n];
    for column in 0..n {
        let mut y = vec![0.0; n];
        for i in 0..n {
            let rhs = if i == column { 1.0 } else { 0.0 };
            let sum: f64 = (0..i).map(|k| l[i * n + k] * y[k]).sum();
            y[i] = (rhs - sum) / l[i * n + i];
        }
        for i in (0..n).rev() {
            let sum: f64 = (i + 1..n)
                .map(|k| l[k * n + i] * inverse[k * n + column])
                .sum();
            inverse[i * n + column] = (y[i] - sum) / l[i * n + i];
        }
    }
    Some(inverse)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Hessian of `f` at `x` by central differences with steps `h`, row-major `n × n`: what
    /// the response surface is compared with.
    fn central_differences(mut f: impl FnMut(&[f64]) -> f64, x: &[f64], h: &[f64]) -> Vec<f64> {
        let n = x.len();
        let mut at = |shifts: &[(usize, f64)]| {
            let mut y = x.to_vec();
            for &(i, delta) in shifts {
                y[i] += delta;
            }
            f(&y)
        };
        let centre = at(&[]);
        let mut matrix = vec![0.0; n * n];
        for i in 0..n {
            let plus = at(&[(i, h[i])]);
            let minus = at(&[(i, -h[i])]);
            matrix[i * n + i] = (plus - 2.0 * centre + minus) / (h[i] * h[i]);
            for j in 0..i {
                let pp = at(&[(i, h[i]), (j, h[j])]);
                let pm = at(&[(i, h[i]), (j, -h[j])]);
                let mp = at(&[(i, -h[i]), (j, h[j])]);
                let mm = at(&[(i, -h[i]), (j, -h[j])]);
                let value = (pp - pm - mp + mm) / (4.0 * h[i] * h[j]);
                matrix[i * n + j] = value;
                matrix[j * n + i] = value;
            }
        }
        matrix
    }

    #[test]
    fn nelder_mead_finds_the_minimum_of_rosenbrocks_valley() {
        let rosenbrock = |x: &[f64]| (1.0 - x[0]).powi(2) + 100.0 * (x[1] - x[0] * x[0]).powi(2);
        let found = nelder_mead(
            rosenbrock,
            &[-1.2, 1.0],
            &[0.5, 0.5],
            &NelderMeadOptions::default(),
        );
        assert!(found.converged, "{found:?}");
        assert!(
            (found.x[0] - 1.0).abs() < 1e-4 && (found.x[1] - 1.0).abs() < 1e-4,
            "{found:?}"
        );
    }

    #[test]
    fn nelder_mead_minimises_a_quadratic_in_three_dimensions() {
        let target = [3.0, -2.0, 0.5];
        let quadratic = |x: &[f64]| {
            x.iter()
                .zip(&target)
                .enumerate()
                .map(|(i, (a, b))| (i + 1) as f64 * (a - b).powi(2))
                .sum::<f64>()
                + 7.0
        };
        let found = nelder_mead(
            quadratic,
            &[0.0; 3],
            &[1.0; 3],
            &NelderMeadOptions::default(),
        );
        for (a, b) in found.x.iter().zip(&target) {
            assert!((a - b).abs() < 1e-4, "{found:?}");
        }
        assert!((found.value - 7.0).abs() < 1e-8);
        // An objective undefined away from the start is avoided, not followed.
        let half = |x: &[f64]| {
            if x[0] < 0.0 {
                f64::NAN
            } else {
                (x[0] - 1.0).powi(2)
            }
        };
        let found = nelder_mead(half, &[0.2], &[0.5], &NelderMeadOptions::default());
        assert!((found.x[0] - 1.0).abs() < 1e-4);
    }

    #[test]
    fn the_hessian_and_its_inverse_match_a_known_quadratic() {
        // f = ½ xᵀ A x with A = [[4, 1], [1, 3]]; its Hessian is A.
        let f = |x: &[f64]| 0.5 * (4.0 * x[0] * x[0] + 2.0 * x[0] * x[1] + 3.0 * x[1] * x[1]);
        // A quadratic is its own response surface: recovered to rounding.
        let h = response_surface_hessian(f, &[0.3, -0.2], &[0.1, 0.2]).unwrap();
        for (found, expected) in h.iter().zip([4.0, 1.0, 1.0, 3.0]) {
            assert!((found - expected).abs() < 1e-9, "{h:?}");
        }
        let inverse = inverse_positive_definite(&h, 2).unwrap();
        // A⁻¹ = [[3, −1], [−1, 4]] / 11.
        for (found, expected) in
            inverse
                .iter()
                .zip([3.0 / 11.0, -1.0 / 11.0, -1.0 / 11.0, 4.0 / 11.0])
        {
            assert!((found - expected).abs() < 1e-6, "{inverse:?}");
        }
        assert!(inverse_positive_definite(&[1.0, 2.0, 2.0, 1.0], 2).is_none());
    }

    #[test]
    fn a_response_surface_recovers_the_hessian_through_small_jumps() {
        // A quadratic with Hessian [[4, 1], [1, 3]] plus a deterministic jitter of ±0.001 that
        // makes central differences with a small step useless.
        let jitter = |x: &[f64]| 0.001 * ((x[0] * 9137.0).sin() + (x[1] * 7411.0).cos());
        let f = |x: &[f64]| {
            0.5 * (4.0 * x[0] * x[0] + 2.0 * x[0] * x[1] + 3.0 * x[1] * x[1]) + jitter(x)
        };
        let exact = [4.0, 1.0, 1.0, 3.0];
        let surface = response_surface_hessian(f, &[0.1, 0.2], &[0.3, 0.3]).unwrap();
        for (found, expected) in surface.iter().zip(exact) {
            assert!((found - expected).abs() < 0.05, "{surface:?}");
        }
        let differences = central_differences(f, &[0.1, 0.2], &[1e-3, 1e-3]);
        assert!((differences[0] - 4.0).abs() > 1.0, "{differences:?}");
    }
}
