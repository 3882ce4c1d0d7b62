package resend

import "testing"

func TestCutLineAndSkipBlankLines(t *testing.T) {
	for _, tc := range []struct {
		text, line, rest, skipped string
	}{
		{"", "", "", ""},
		{"one", "one", "", "one"},
		{"one\r\ntwo\n", "one\r\n", "two\n", "one\r\ntwo\n"},
		{"\n", "\n", "", ""},
		{" \t\r\n\nResend: a@b.test\nrest", " \t\r\n", "\nResend: a@b.test\nrest", "Resend: a@b.test\nrest"},
		{"\r\n \r\n", "\r\n", " \r\n", ""},
		{"\n\nlast line without a break", "\n", "\nlast line without a break", "last line without a break"},
	} {
		line, rest := CutLine([]byte(tc.text))
		if string(line) != tc.line || string(rest) != tc.rest {
			t.Errorf("CutLine(%q) = %q, %q; want %q, %q", tc.text, line, rest, tc.line, tc.rest)
		}
		if got := SkipBlankLines([]byte(tc.text)); string(got) != tc.skipped {
			t.Errorf("SkipBlankLines(%q) = %q, want %q", tc.text, got, tc.skipped)
		}
	}
}
