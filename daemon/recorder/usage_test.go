package recorder

import (
	"testing"

	"github.com/callvault/callvault/vault"
)

func TestDiskUsage(t *testing.T) {
	u := vault.Usage{Files: 3, Bytes: 3000, GrowthBytesPerDay: 100, GrowthDays: 2}
	got := diskUsage(u, 2500, 500)
	if got.RecordingsFiles != 3 || got.RecordingsBytes != 3000 || got.GrowthDays != 2 {
		t.Errorf("usage %+v", got)
	}
	if got.DaysUntilFull == nil || *got.DaysUntilFull != 20 {
		t.Errorf("days until full %v, want 20: 2000 bytes above the reserve at 100 a day", got.DaysUntilFull)
	}
	if d := diskUsage(u, 400, 500).DaysUntilFull; d == nil || *d != 0 {
		t.Errorf("below the reserve: days until full %v, want 0", d)
	}
	if d := diskUsage(vault.Usage{Files: 1, Bytes: 10}, 2500, 500).DaysUntilFull; d != nil {
		t.Errorf("no growth: days until full %v, want none", *d)
	}
}
