package segment

import (
	"math"
	"math/bits"
	"strconv"
)

// pow10 holds the powers of ten that fit in a uint64.
var pow10 = [20]uint64{
	1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9,
	1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19,
}

// pow10f holds the powers of ten that a float64 holds exactly.
var pow10f = [23]float64{
	1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
}

// parseFloat converts a JSON number, as the scanner read it, to the nearest
// float64, exactly as strconv.ParseFloat does; it reports false where
// ParseFloat fails (the number is out of float64's range).
//
// Timestamps are most of the numbers in segment documents, and the shortest
// form of a float64 often has 17 significant digits (1699480919.9095895),
// more than the 2^53 of the classic exact fast path. parseFloat covers them
// by computing with 128-bit integers, at half ParseFloat's cost, and leaves
// the rest to ParseFloat.
func parseFloat(b []byte) (float64, bool) {
	if f, ok := parseFloatFast(b); ok {
		return f, true
	}
	f, err := strconv.ParseFloat(string(b), 64)
	return f, err == nil
}

// parseFloatFast converts numbers of at most 19 significant digits m and a
// decimal exponent e with |e| ≤ 19 (or ≤ 22 for m ≤ 2^53), and reports false
// for any other.
//
// The value is m·10^e. Where m ≤ 2^53 and |e| ≤ 22, m and 10^|e| are exact
// float64s, and one multiplication or division, which IEEE 754 rounds
// correctly, gives the answer (Clinger's fast path). Beyond that, both m
// and 10^|e| (|e| ≤ 19) still fit in a uint64, so their product,
// or a quotient of m·2^s by 10^-e scaled to 62–64 bits, can be had exactly,
// as a 64-bit integer q and whether anything nonzero was cut off below it.
// Folding that into q's lowest bit (a sticky bit; q has at least 62 bits,
// so the bit is well below the 53 kept) lets the hardware conversion of q
// to float64, which rounds to nearest even, round the way the exact value
// rounds. The scaling by a power of two is then exact: the value lies
// between 10^-19 and 10^38, far from subnormals and overflow.
func parseFloatFast(b []byte) (float64, bool) {
	i := 0
	neg := b[0] == '-'
	if neg {
		i++
	}
	var m uint64
	digits, exp := 0, 0
	for ; i < len(b) && isDigit(b[i]); i++ {
		if digits == 0 && b[i] == '0' {
			continue
		}
		if digits == 19 {
			return 0, false
		}
		m = m*10 + uint64(b[i]-'0')
		digits++
	}
	if i < len(b) && b[i] == '.' {
		for i++; i < len(b) && isDigit(b[i]); i++ {
			exp--
			if digits == 0 && b[i] == '0' {
				continue
			}
			if digits == 19 {
				return 0, false
			}
			m = m*10 + uint64(b[i]-'0')
			digits++
		}
	}
	if i < len(b) { // e or E, then an optional sign and at least one digit
		i++
		sign := 1
		switch b[i] {
		case '-':
			sign = -1
			fallthrough
		case '+':
			i++
		}
		e := 0
		for ; i < len(b); i++ {
			if e < 1000 { // beyond that, the answer is no either way
				e = e*10 + int(b[i]-'0')
			}
		}
		exp += sign * e
	}
	var f float64
	switch {
	case m == 0:
	case m <= 1<<53 && 0 <= exp && exp <= 22:
		f = float64(m) * pow10f[exp]
	case m <= 1<<53 && -22 <= exp && exp < 0:
		f = float64(m) / pow10f[-exp]
	case 0 <= exp && exp <= 19:
		hi, lo := bits.Mul64(m, pow10[exp])
		if hi == 0 {
			f = float64(lo)
			break
		}
		s := uint(bits.Len64(hi))
		q := hi<<(64-s) | lo>>s
		if lo<<(64-s) != 0 {
			q |= 1
		}
		f = float64(q) * pow2(int(s))
	case -19 <= exp && exp < 0:
		p := pow10[-exp]
		// s makes m·2^s / p less than 2^64 (so Div64 does not
		// overflow) and at least 2^62.
		s := uint(63 + bits.Len64(p) - bits.Len64(m))
		var hi, lo uint64
		if s >= 64 {
			hi = m << (s - 64)
		} else {
			hi, lo = m>>(64-s), m<<s
		}
		q, r := bits.Div64(hi, lo, p)
		if r != 0 {
			q |= 1
		}
		f = float64(q) * pow2(-int(s))
	default:
		return 0, false
	}
	if neg {
		f = -f
	}
	return f, true
}

// pow2 returns 2^e for a normal float64 exponent e (-1022 ≤ e ≤ 1023).
// Multiplying by it is exact as long as the product is normal.
func pow2(e int) float64 {
	return math.Float64frombits(uint64(e+1023) << 52)
}
