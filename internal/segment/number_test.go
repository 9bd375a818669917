package segment

import (
	"math"
	"strconv"
	"strings"
	"testing"
)

// checkParseFloat compares parseFloat on the JSON number s with
// strconv.ParseFloat, bit for bit.
func checkParseFloat(t *testing.T, s string) {
	t.Helper()
	want, err := strconv.ParseFloat(s, 64)
	got, ok := parseFloat([]byte(s))
	if ok != (err == nil) || (ok && math.Float64bits(got) != math.Float64bits(want)) {
		t.Errorf("parseFloat(%s) = %v (%#x), %t; strconv.ParseFloat gives %v (%#x), %v", s, got, math.Float64bits(got), ok, want, math.Float64bits(want), err)
	}
}

func TestParseFloat(t *testing.T) {
	t.Parallel()
	for _, s := range []string{
		"0", "-0", "0.0", "-0.0e5", "1", "-1", "12", "0.5", "1480615200.01", "1699480919.9095895",
		"1.48061520001E9", "1.480615200090e+9", "16.5", "9007199254740993", "9999999999999999999",
		"10000000000000000000", "0.1", "0.3", "2.2250738585072014e-308", "1.7976931348623157e308",
		"1e19", "1e20", "1e-19", "1e-20", "123456789012345678e-19", "1234567890123456789e19",
		"0.0000000000000000001", "0.00000000000000000001", "1e400", "-1e400", "1e-400",
		"4.35e-10", "1699480920.1668363", "1699480919.5493197", "8.98846567431158e+307",
		// Ties at 53 bits: 2^53+1 and neighbours, scaled by powers of ten.
		"9007199254740993e-5", "9007199254740995e-5", "90071992547409930e-6", "9007199254740993e3",
		"18014398509481985", "18014398509481987", "18014398509481989",
		// Either side of the edges of the fast paths.
		"9007199254740992e22", "9007199254740992e-22", "9007199254740993e-22", "9007199254740992e23",
		"1e22", "1e23", "1e-22", "1e-23", "12345678901234567890", "0.1234567890123456789",
	} {
		checkParseFloat(t, s)
	}
}

// FuzzParseFloat builds JSON numbers from a mantissa, a decimal point
// position and an exponent, and compares parseFloat with strconv.
func FuzzParseFloat(f *testing.F) {
	f.Add(uint64(16994809199095895), uint8(10), int16(0), false, false)
	f.Add(uint64(9007199254740993), uint8(0), int16(-5), true, true)
	f.Add(uint64(1), uint8(0), int16(-19), false, true)
	f.Fuzz(func(t *testing.T, m uint64, point uint8, exp int16, neg, withExp bool) {
		digits := strconv.FormatUint(m, 10)
		var b strings.Builder
		if neg {
			b.WriteByte('-')
		}
		if p := int(point) % (len(digits) + 1); p > 0 && p < len(digits) && digits[0] != '0' {
			b.WriteString(digits[:p] + "." + digits[p:])
		} else if p == len(digits) && len(digits) > 0 {
			b.WriteString("0." + digits)
		} else {
			b.WriteString(digits)
		}
		if withExp {
			b.WriteString("e" + strconv.Itoa(int(exp)%400))
		}
		checkParseFloat(t, b.String())
	})
}
