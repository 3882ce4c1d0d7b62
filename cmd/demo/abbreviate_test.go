package main

import (
	"strings"
	"testing"
)

// TestAbbreviate checks how the demo shortens the copies it prints: runs of
// more than three base64 lines and armored blocks of more than three lines
// are cut to their first line and a count, shorter ones and plain text are
// kept whole.
func TestAbbreviate(t *testing.T) {
	b64 := strings.Repeat("QUJD", 16) // 64 base64 characters
	for _, tc := range []struct {
		name, in, want string
	}{
		{"plain text", "Subject: hi\n\nHello.", "Subject: hi\n\nHello."},
		{"three base64 lines", strings.Repeat(b64+"\n", 3) + "end", strings.Repeat(b64+"\n", 3) + "end"},
		{"five base64 lines", strings.Repeat(b64+"\n", 5) + "end", b64 + "\n[... 4 more lines of base64 ...]\nend"},
		{"CRLF base64 lines", strings.Repeat(b64+"\r\n", 4) + "end", b64 + "\r\n[... 3 more lines of base64 ...]\nend"},
		{"armored block", "-----BEGIN PGP MESSAGE-----\n\nAAAA\nBBBB\nCCCC\n-----END PGP MESSAGE-----",
			"-----BEGIN PGP MESSAGE-----\n\n[... 3 more lines of ciphertext ...]\n-----END PGP MESSAGE-----"},
		{"short armored block", "-----BEGIN PGP SIGNATURE-----\n\nAAAA\n-----END PGP SIGNATURE-----",
			"-----BEGIN PGP SIGNATURE-----\n\nAAAA\n-----END PGP SIGNATURE-----"},
	} {
		if got := abbreviate(tc.in); got != tc.want {
			t.Errorf("%s: abbreviate(%q) = %q, want %q", tc.name, tc.in, got, tc.want)
		}
	}
}

// TestIsBase64Line: a base64 line is at least 60 characters of the base64
// alphabet, a trailing CR aside.
func TestIsBase64Line(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{strings.Repeat("A", 60), true},
		{strings.Repeat("A", 59), false},
		{strings.Repeat("a+/=", 15) + "\r", true},
		{strings.Repeat("A", 59) + "-", false},
		{strings.Repeat("A", 30) + " " + strings.Repeat("A", 30), false},
	} {
		if got := isBase64Line(tc.in); got != tc.want {
			t.Errorf("isBase64Line(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

// TestStatusLine picks the first gpg status line with the keyword.
func TestStatusLine(t *testing.T) {
	status := "[GNUPG:] NEWSIG\n[GNUPG:] GOODSIG 0123ABCD Team <team@lists.test>\n[GNUPG:] GOODSIG FFFF Other\n"
	if got, want := statusLine(status, "GOODSIG"), "GOODSIG 0123ABCD Team <team@lists.test>"; got != want {
		t.Errorf("statusLine GOODSIG = %q, want %q", got, want)
	}
	if got := statusLine(status, "BADSIG"); got != "" {
		t.Errorf("statusLine BADSIG = %q, want none", got)
	}
}

// TestDemoSections splits the demo's output at its "==> " titles; text
// before the first title is dropped and a repeated title gathers both bodies.
func TestDemoSections(t *testing.T) {
	got := demoSections("preamble\n==> one\nx\n==> two\ny\n==> one\nz")
	if len(got) != 2 || got["one"] != "x\nz\n" || got["two"] != "y\n" {
		t.Errorf("demoSections = %q", got)
	}
}
