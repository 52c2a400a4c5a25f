package calc

import (
	"math"
	"testing"
)

// TestExamples checks every published row. No rounding is involved: the
// products are whole numbers of MB and dividing by 1024 is exact in
// binary floating point, so the GB must equal the printed figure exactly
// (the guide prints 1620 as "1.620", a thousands separator).
func TestExamples(t *testing.T) {
	if len(Examples) != 7 {
		t.Fatalf("%d examples, want the 7 published rows", len(Examples))
	}
	for _, x := range Examples {
		if got := x.GB(); got != x.PublishedGB {
			t.Errorf("%s %s, %d agents x %g h x %g days x %d months: %v GB, published %v",
				x.Scenario, x.Service.Name, x.Agents, x.HoursPerDay, x.Service.DaysPerMonth, x.Months, got, x.PublishedGB)
		}
	}
}

func TestDiskGB(t *testing.T) {
	tests := []struct {
		name   string
		agents int
		hours  float64
		days   float64
		months int
		want   float64
	}{
		{"help desk row 1", 4, 6, 24, 6, 54},
		{"emergency row 1", 2, 2, 30, 48, 90},
		{"one agent one hour", 1, 1, 1, 1, 16.0 / 1024},
		{"64 hours is one GB", 1, 8, 8, 1, 1},
		{"half hours", 4, 6.5, 24, 6, 58.5},
		{"no agents", 0, 8, 24, 12, 0},
		{"no retention", 10, 8, 24, 0, 0},
		{"negative agents clamp to 0", -4, 6, 24, 6, 0},
		{"negative hours clamp to 0", 4, -6, 24, 6, 0},
		{"NaN days clamp to 0", 4, 6, math.NaN(), 6, 0},
		{"negative months clamp to 0", 4, 6, 24, -6, 0},
	}
	for _, tt := range tests {
		if got := DiskGB(tt.agents, tt.hours, tt.days, tt.months); got != tt.want {
			t.Errorf("%s: DiskGB(%d, %g, %g, %d) = %v, want %v", tt.name, tt.agents, tt.hours, tt.days, tt.months, got, tt.want)
		}
	}
}

func TestRecordedHours(t *testing.T) {
	if got := RecordedHours(4, 6, 24, 6); got != 3456 {
		t.Errorf("RecordedHours(4, 6, 24, 6) = %v, want 3456", got)
	}
}

func TestServices(t *testing.T) {
	for name, days := range map[string]float64{"8x6": 24, "24x7": 30} {
		s, ok := ServiceByName(name)
		if !ok || s.Name != name || s.DaysPerMonth != days {
			t.Errorf("ServiceByName(%q) = %+v, %v; want %g days", name, s, ok, days)
		}
	}
	for _, name := range []string{"", "8X6", "24/7", "5x8"} {
		if s, ok := ServiceByName(name); ok {
			t.Errorf("ServiceByName(%q) = %+v, want not found", name, s)
		}
	}
}
