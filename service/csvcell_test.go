package service

import "testing"

// TestCSVCellRoundTrip: a cell that would start a spreadsheet formula is
// written with a leading apostrophe and read back as it was; other text
// is left alone.
func TestCSVCellRoundTrip(t *testing.T) {
	for _, tc := range []struct{ in, out string }{
		{`=HYPERLINK("https://evil.example","x")`, `'=HYPERLINK("https://evil.example","x")`},
		{"+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"},
		{"-2+3", "'-2+3"},
		{"@SUM(A1)", "'@SUM(A1)"},
		{"\t=1", "'\t=1"},
		{"Ann Smith", "Ann Smith"},
		{"'quoted", "'quoted"},
		{"", ""},
	} {
		if got := csvCell(tc.in); got != tc.out {
			t.Errorf("csvCell(%q) = %q, want %q", tc.in, got, tc.out)
		}
		if got := csvUncell(csvCell(tc.in)); got != tc.in {
			t.Errorf("csvUncell(csvCell(%q)) = %q", tc.in, got)
		}
	}
}
