package bounce

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

type want struct {
	addr      string
	permanent bool
	status    string
}

// TestParseSamples reads the reports in testdata, in the formats Postfix's
// bounce(8), Exim, qmail-send and Gmail write.
func TestParseSamples(t *testing.T) {
	cases := []struct {
		file   string
		format string
		rcpts  []want
	}{
		{"postfix-failed.eml", "dsn", []want{{"bob@subs.test", true, "5.1.1"}}},
		{"postfix-delayed.eml", "dsn", []want{{"cat@subs.test", false, "4.4.1"}}},
		{"exim-failed.eml", "dsn", []want{{"dan@else.test", true, "5.0.0"}}},
		{"exim-plain-failed.eml", "exim", []want{{"dan@else.test", true, "5.1.1"}, {"eve@else.test", true, ""}}},
		{"exim-delayed.eml", "exim", []want{{"dan@else.test", false, "4.3.0"}}},
		{"qmail.eml", "qmail", []want{{"fay@old.test", true, "5.1.1"}}},
		{"gmail.eml", "gmail", []want{{"gus@gmail.test", true, "5.1.1"}}},
		{"gmail-new.eml", "gmail", []want{{"hal@gmail.test", true, ""}}},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join("testdata", c.file))
			if err != nil {
				t.Fatal(err)
			}
			r, err := Parse(raw)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if r.Format != c.format {
				t.Errorf("format = %q, want %q", r.Format, c.format)
			}
			if len(r.Recipients) != len(c.rcpts) {
				t.Fatalf("recipients = %+v, want %d", r.Recipients, len(c.rcpts))
			}
			for i, w := range c.rcpts {
				g := r.Recipients[i]
				if g.Address != w.addr || g.Permanent != w.permanent || g.Status != w.status {
					t.Errorf("recipient %d = %+v, want %+v", i, g, w)
				}
				if strings.Contains(g.Diagnostic, "RETURNED-BODY-MARKER") || strings.Contains(g.Diagnostic, "\n") {
					t.Errorf("diagnostic %q holds returned content or a line break", g.Diagnostic)
				}
			}
			if n := len(r.Failed()); c.rcpts[0].permanent && n == 0 || !c.rcpts[0].permanent && n != 0 {
				t.Errorf("Failed() = %d recipients", n)
			}
		})
	}
}

// TestParsePostfixDiagnostic: the folded Diagnostic-Code is one line
// without its type.
func TestParsePostfixDiagnostic(t *testing.T) {
	raw, err := os.ReadFile("testdata/postfix-failed.eml")
	if err != nil {
		t.Fatal(err)
	}
	r, err := Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	want := "550 5.1.1 <bob@subs.test>: Recipient address rejected: User unknown in virtual mailbox table"
	if got := r.Recipients[0].Diagnostic; got != want {
		t.Fatalf("diagnostic = %q, want %q", got, want)
	}
}

// TestParseNotBounce: auto-replies and ordinary mail are not reports.
func TestParseNotBounce(t *testing.T) {
	vac, err := os.ReadFile("testdata/vacation.eml")
	if err != nil {
		t.Fatal(err)
	}
	for name, raw := range map[string][]byte{
		"vacation":   vac,
		"empty":      nil,
		"no header":  []byte("just text"),
		"bad report": []byte("Content-Type: multipart/report; boundary=x\n\n--x\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; x\n--x--\n"),
	} {
		if _, err := Parse(raw); !errors.Is(err, ErrNotBounce) {
			t.Errorf("%s: err = %v, want ErrNotBounce", name, err)
		}
	}
}

// TestParseBounds: a report naming thousands of recipients yields at most
// MaxRecipients, and a huge input is cut at MaxInput.
func TestParseBounds(t *testing.T) {
	var b strings.Builder
	b.WriteString("Content-Type: multipart/report; report-type=delivery-status; boundary=x\n\n--x\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; x\n")
	for i := range 5000 {
		b.WriteString("\nFinal-Recipient: rfc822; u" + strings.Repeat("x", i%7) + "@x.test\nAction: failed\nStatus: 5.1.1\n")
	}
	b.WriteString("--x--\n")
	r, err := Parse([]byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Recipients) > MaxRecipients {
		t.Fatalf("%d recipients", len(r.Recipients))
	}
	huge := []byte("Subject: x\n\n" + strings.Repeat("a", 3*MaxInput))
	if _, err := Parse(huge); !errors.Is(err, ErrNotBounce) {
		t.Fatalf("huge: %v", err)
	}
}

func TestCleanAddress(t *testing.T) {
	for in, want := range map[string]string{
		"rfc822; Bob@Subs.Test":  "bob@subs.test",
		"rfc822;<bob@subs.test>": "bob@subs.test",
		"Bob <bob@subs.test>":    "bob@subs.test",
		"utf-8; bob@subs.test":   "bob@subs.test",
		"rfc822; not an address": "",
		"rfc822; a@b@c":          "",
		"rfc822; x@y, z@w":       "",
		"":                       "",
	} {
		if got := cleanAddress(in); got != want {
			t.Errorf("cleanAddress(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.eml")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("Content-Type: message/delivery-status\n\nX: y\n\nFinal-Recipient: rfc822; a@b\n"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		r, err := Parse(raw)
		if err != nil {
			if !errors.Is(err, ErrNotBounce) {
				t.Fatalf("error %v is not ErrNotBounce", err)
			}
			return
		}
		if len(r.Recipients) == 0 || len(r.Recipients) > MaxRecipients {
			t.Fatalf("%d recipients", len(r.Recipients))
		}
		for _, x := range r.Recipients {
			if !strings.Contains(x.Address, "@") || len(x.Diagnostic) > maxDiagnostic {
				t.Fatalf("recipient %+v", x)
			}
		}
	})
}
