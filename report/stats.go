package report

import "math"

// z95 is the two-sided 95% quantile of the standard normal distribution.
const z95 = 1.959963984540054

// Interval is a 95% confidence interval of a proportion.
type Interval struct {
	Low  float64 `json:"low"`
	High float64 `json:"high"`
}

// Wilson is the 95% Wilson score interval of the proportion x/n: unlike
// the normal approximation it stays inside [0, 1] and is sound for small
// n and for x near 0 or n. ok is false when n is 0.
func Wilson(x, n int) (iv Interval, ok bool) {
	if n <= 0 || x < 0 || x > n {
		return Interval{}, false
	}
	nf := float64(n)
	p := float64(x) / nf
	z2 := z95 * z95
	d := 1 + z2/nf
	center := (p + z2/(2*nf)) / d
	half := z95 * math.Sqrt(p*(1-p)/nf+z2/(4*nf*nf)) / d
	return Interval{Low: math.Max(0, center-half), High: math.Min(1, center+half)}, true
}

// TwoProportion is the pooled two-proportion z-test of x1/n1 against
// x2/n2: z is (p2 − p1) over its standard error under the hypothesis that
// both proportions are equal, p the two-sided p-value. ok is false when
// either n is 0 or the pooled proportion is 0 or 1 (no variance: the
// proportions are equal).
func TwoProportion(x1, n1, x2, n2 int) (z, p float64, ok bool) {
	if n1 <= 0 || n2 <= 0 {
		return 0, 0, false
	}
	p1, p2 := float64(x1)/float64(n1), float64(x2)/float64(n2)
	pooled := float64(x1+x2) / float64(n1+n2)
	se := math.Sqrt(pooled * (1 - pooled) * (1/float64(n1) + 1/float64(n2)))
	if se == 0 {
		return 0, 1, false
	}
	z = (p2 - p1) / se
	return z, math.Erfc(math.Abs(z) / math.Sqrt2), true
}
