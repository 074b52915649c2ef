package report

import (
	"math"
	"testing"
)

// Known values: Newcombe, "Two-sided confidence intervals for the single
// proportion" (Statistics in Medicine 17, 1998), table I, method 3.
func TestWilson(t *testing.T) {
	for _, tc := range []struct {
		x, n      int
		low, high float64
	}{
		{81, 263, 0.2553, 0.3662},
		{15, 148, 0.0624, 0.1605},
		{0, 20, 0, 0.1611},
		{1, 29, 0.0061, 0.1718},
		{29, 29, 0.8830, 1},
	} {
		iv, ok := Wilson(tc.x, tc.n)
		if !ok || math.Abs(iv.Low-tc.low) > 5e-5 || math.Abs(iv.High-tc.high) > 5e-5 {
			t.Errorf("Wilson(%d, %d) = %+v, %v, want [%.4f, %.4f]", tc.x, tc.n, iv, ok, tc.low, tc.high)
		}
	}
	for _, tc := range [][2]int{{0, 0}, {1, 0}, {-1, 5}, {6, 5}} {
		if _, ok := Wilson(tc[0], tc[1]); ok {
			t.Errorf("Wilson(%d, %d) ok, want not", tc[0], tc[1])
		}
	}
}

// Known values: R's prop.test(c(30, 45), c(100, 100), correct = FALSE)
// gives X-squared = 4.8 (z² for the pooled z-test), p-value = 0.02846.
func TestTwoProportion(t *testing.T) {
	for _, tc := range []struct {
		x1, n1, x2, n2 int
		z, p           float64
		ok             bool
	}{
		{30, 100, 45, 100, math.Sqrt(4.8), 0.02846, true},
		{45, 100, 30, 100, -math.Sqrt(4.8), 0.02846, true},
		{50, 100, 50, 100, 0, 1, true},
		{490, 500, 400, 500, -9.0960, 9.3707e-20, true},
		{0, 10, 0, 10, 0, 1, false},
		{5, 10, 1, 0, 0, 0, false},
	} {
		z, p, ok := TwoProportion(tc.x1, tc.n1, tc.x2, tc.n2)
		relP := math.Abs(p - tc.p)
		if tc.p > 0 {
			relP /= tc.p
		}
		if ok != tc.ok || math.Abs(z-tc.z) > 1e-4 || relP > 2e-4 {
			t.Errorf("TwoProportion(%d/%d, %d/%d) = %.5f, %.5g, %v, want %.5f, %.5g, %v", tc.x1, tc.n1, tc.x2, tc.n2, z, p, ok, tc.z, tc.p, tc.ok)
		}
	}
}
