package commands

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func words(p *Parsed) []string {
	var out []string
	for _, l := range p.Lines {
		w := l.Word
		if l.Subject {
			w = "S:" + w
		}
		if len(l.Args) > 0 {
			w += " " + strings.Join(l.Args, " ")
		}
		out = append(out, w)
	}
	return out
}

func TestParse(t *testing.T) {
	alt := "From: a@x.test\nSubject: hi\nContent-Type: multipart/alternative; boundary=B\n\n" +
		"--B\nContent-Type: text/html\n\n<p>who</p>\n--B\nContent-Type: text/plain\nContent-Transfer-Encoding: quoted-printable\n\nsubscribe=20me@x.test\nwho\n--B--\n"
	nested := "From: a@x.test\nContent-Type: multipart/mixed; boundary=M\n\n--M\nContent-Type: multipart/alternative; boundary=B\n\n" +
		"--B\nContent-Type: text/plain\n\nhelp\n--B\nContent-Type: text/html\n\n<p>x</p>\n--B--\n--M\nContent-Type: text/plain\nContent-Disposition: attachment\n\nwho\n--M--\n"
	signed := "From: a@x.test\nContent-Type: multipart/signed; protocol=\"application/pgp-signature\"; boundary=S\n\n" +
		"--S\nContent-Type: text/plain\n\nx-list-name team@lists.test\nremove bob@subs.test\n--S\nContent-Type: application/pgp-signature\n\nremove cat@subs.test\n--S--\n"
	clear := "From: a@x.test\n\n-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\nx-list-name team\n- remove bob@subs.test\n-----BEGIN PGP SIGNATURE-----\n\nabc\n-----END PGP SIGNATURE-----\n"
	b64 := "From: a@x.test\nContent-Type: text/plain\nContent-Transfer-Encoding: base64\n\naGVscAp3\naG8K\n"
	for _, tc := range []struct {
		name, msg string
		want      []string
		list      string
	}{
		{"plain", "From: a@x.test\n\nhelp\n\n  WHO  \n# a comment\n", []string{"help", "who"}, ""},
		{"subject command", "From: a@x.test\nSubject: Re: subscribe\n\n", []string{"S:subscribe"}, ""},
		{"subject not a command", "From: a@x.test\nSubject: hello there\n\nwho\n", []string{"who"}, ""},
		{"end stops", "From: a@x.test\n\nhelp\nend\nwho\n", []string{"help", "end"}, ""},
		{"signature delimiter stops", "From: a@x.test\n\nhelp\n-- \nwho\n", []string{"help"}, ""},
		{"quote stops", "From: a@x.test\n\nhelp\n> who\nwho\n", []string{"help"}, ""},
		{"CRLF", "From: a@x.test\r\n\r\nhelp\r\n-- \r\nwho\r\n", []string{"help"}, ""},
		{"alternative", alt, []string{"subscribe me@x.test", "who"}, ""},
		{"nested, attachment skipped", nested, []string{"help"}, ""},
		{"signed part only", signed, []string{"remove bob@subs.test"}, "team@lists.test"},
		{"clear-signed", clear, []string{"remove bob@subs.test"}, "team"},
		{"base64", b64, []string{"help", "who"}, ""},
		{"pasted key stops", "From: a@x.test\n\nkey change\n-----BEGIN PGP PUBLIC KEY BLOCK-----\nmDMEaw\n", []string{"key change"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Parse([]byte(tc.msg))
			if err != nil {
				t.Fatal(err)
			}
			if got := words(p); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("commands = %q, want %q", got, tc.want)
			}
			if p.ListName != tc.list {
				t.Fatalf("list name = %q, want %q", p.ListName, tc.list)
			}
		})
	}
}

// TestParseBounded: 10,000 lines of junk give MaxCommands lines and a count
// of the rest; a long line is clipped.
func TestParseBounded(t *testing.T) {
	var b strings.Builder
	b.WriteString("From: a@x.test\n\n")
	for i := 0; i < 10000; i++ {
		fmt.Fprintf(&b, "junk line %d %s\n", i, strings.Repeat("z", i%50))
	}
	b.WriteString(strings.Repeat("y", 5000) + "\n")
	p, err := Parse([]byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Lines) != MaxCommands || p.Ignored != 10001-MaxCommands {
		t.Fatalf("%d lines, %d ignored", len(p.Lines), p.Ignored)
	}
	l := splitLine(strings.Repeat("y", 5000))
	if len(l.Text) > MaxLineLen+3 {
		t.Fatalf("line of %d bytes kept", len(l.Text))
	}
}

func TestParseNoText(t *testing.T) {
	_, err := Parse([]byte("From: a@x.test\nContent-Type: image/png\n\nxx\n"))
	if !errors.Is(err, ErrNoText) {
		t.Fatalf("err = %v", err)
	}
}

func TestTableNamesUnique(t *testing.T) {
	seen := map[string]string{}
	for _, c := range All {
		for _, w := range append([]string{c.Name()}, c.Aliases()...) {
			if prev, ok := seen[w]; ok {
				t.Errorf("%q names both %s and %s", w, prev, c.Name())
			}
			seen[w] = c.Name()
		}
		if c.Help() == "" {
			t.Errorf("%s has no help line", c.Name())
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("From: a@x.test\nSubject: subscribe\n\nhelp\nwho\nend\n"))
	f.Add([]byte("From: a@x.test\nContent-Type: multipart/alternative; boundary=B\n\n--B\nContent-Type: text/plain\n\nwho\n--B--\n"))
	f.Add([]byte("From: a@x.test\n\n-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\nx-list-name t\n-----BEGIN PGP SIGNATURE-----\n"))
	f.Add([]byte("From: a@x.test\nContent-Type: text/plain\nContent-Transfer-Encoding: base64\n\n!!!\n"))
	f.Fuzz(func(t *testing.T, msg []byte) {
		p, err := Parse(msg)
		if err != nil || p == nil {
			return
		}
		if len(p.Lines) > MaxCommands+1 {
			t.Fatalf("%d lines", len(p.Lines))
		}
		for _, l := range p.Lines {
			if len(l.Text) > MaxLineLen+3 || len(l.Args) > MaxArgs {
				t.Fatalf("line not bounded: %q", l.Text)
			}
		}
		SignatureOf(msg, "FPR")
	})
}
