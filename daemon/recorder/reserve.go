package recorder

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Reserve is the free space the daemon keeps on the data dir's file
// system ([storage] min_free): a size, a share of the file system, or both,
// whichever is larger.
type Reserve struct {
	bytes   uint64
	percent float64 // 0-50
}

// mib renders a byte count in whole MiB, for logs and SIP reasons.
func mib(n uint64) string { return strconv.FormatUint(n>>20, 10) + " MiB" }

// sizeUnits are the suffixes parseSize takes, longest first.
var sizeUnits = []struct {
	suffix string
	mult   uint64
}{
	{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10},
	{"TB", 1e12}, {"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3}, {"kB", 1e3},
	{"T", 1 << 40}, {"G", 1 << 30}, {"M", 1 << 20}, {"K", 1 << 10}, {"B", 1},
}

// ParseReserve reads min_free: comma-separated terms, each a size ("1GiB",
// "512MiB", "2GB", "1048576") or a percentage ("2%"); at most one of each.
func ParseReserve(s string) (Reserve, error) {
	var r Reserve
	var haveSize, havePct bool
	for _, term := range strings.Split(s, ",") {
		term = strings.TrimSpace(term)
		switch {
		case term == "":
			return r, fmt.Errorf("%q: empty term (want a size such as \"1GiB\", a share such as \"2%%\", or both)", s)
		case strings.HasSuffix(term, "%"):
			if havePct {
				return r, fmt.Errorf("%q: two percentages", s)
			}
			v, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(term, "%")), 64)
			if err != nil || v < 0 || v > 50 || math.IsNaN(v) {
				return r, fmt.Errorf("%q: percentage %q must be a number from 0 to 50", s, term)
			}
			r.percent, havePct = v, true
		default:
			if haveSize {
				return r, fmt.Errorf("%q: two sizes", s)
			}
			v, err := parseSize(term)
			if err != nil {
				return r, fmt.Errorf("%q: %w", s, err)
			}
			r.bytes, haveSize = v, true
		}
	}
	return r, nil
}

// parseSize reads a byte count with an optional unit (KiB, MiB, GiB, TiB,
// or the decimal KB, MB, GB, TB).
func parseSize(s string) (uint64, error) {
	num, mult := s, uint64(1)
	for _, u := range sizeUnits {
		if strings.HasSuffix(s, u.suffix) {
			num, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.mult
			break
		}
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || v < 0 || math.IsNaN(v) || v*float64(mult) > 1<<62 {
		return 0, fmt.Errorf("size %q: want a number with an optional unit such as MiB or GiB", s)
	}
	return uint64(v * float64(mult)), nil
}

// of is the reserve in bytes on a file system of total bytes.
func (r Reserve) of(total uint64) uint64 {
	return max(r.bytes, uint64(float64(total)*r.percent/100))
}
