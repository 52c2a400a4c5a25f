package tui

import (
	"math"
	"strings"
)

// sparkBlocks are the eight heights of a sparkline column.
var sparkBlocks = []rune("▁▂▃▄▅▆▇█")

// sparkline draws values as width columns of block characters, the
// tallest at the largest value (or at least at top, so that a quiet
// period stays low). Each column is the maximum of the values that fall
// in it; with fewer values than columns, they fill the right-hand end.
// An empty series draws nothing.
func sparkline(values []float64, width int, top float64) string {
	if width <= 0 || len(values) == 0 {
		return ""
	}
	cols := bucketMax(values, width)
	hi := top
	for _, v := range cols {
		hi = max(hi, v)
	}
	var b strings.Builder
	b.Grow(len(cols) * 3)
	for _, v := range cols {
		i := 0
		if hi > 0 && v > 0 {
			i = int(math.Ceil(v/hi*float64(len(sparkBlocks)))) - 1
			i = min(max(i, 0), len(sparkBlocks)-1)
		}
		b.WriteRune(sparkBlocks[i])
	}
	return b.String()
}

// bucketMax splits values, in order, into at most n consecutive buckets
// of nearly equal size and returns the maximum of each.
func bucketMax(values []float64, n int) []float64 {
	if len(values) <= n {
		return values
	}
	out := make([]float64, n)
	for i := range n {
		from, to := i*len(values)/n, (i+1)*len(values)/n
		m := values[from]
		for _, v := range values[from+1 : to] {
			m = max(m, v)
		}
		out[i] = m
	}
	return out
}
