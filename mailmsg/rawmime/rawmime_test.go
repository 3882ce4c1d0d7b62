package rawmime

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// crlf turns every LF of s into CRLF.
func crlf(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }

// endings runs f once with LF input and once with CRLF input.
func endings(t *testing.T, f func(t *testing.T, conv func(string) string)) {
	t.Run("LF", func(t *testing.T) { f(t, func(s string) string { return s }) })
	t.Run("CRLF", func(t *testing.T) { f(t, crlf) })
}

func TestParse(t *testing.T) {
	tests := []struct {
		name, in     string
		header, body string
		subject      string
		wantErr      error
	}{
		{"simple", "Subject: hi\nX: y\n\nbody\n", "Subject: hi\nX: y\n", "body\n", "hi", nil},
		{"folded", "Subject: a\n b\n\nbody", "Subject: a\n b\n", "body", "a b", nil},
		{"no body", "Subject: hi\n", "Subject: hi\n", "", "hi", nil},
		{"no header", "\nbody\n", "", "body\n", "", nil},
		{"empty", "", "", "", "", nil},
		{"blank line kept in body", "Subject: x\n\n\nbody", "Subject: x\n", "\nbody", "x", nil},
		{"no colon", "Subject hi\n\nbody", "", "", "", ErrMalformed},
		{"leading space", " Subject: hi\n\nbody", "", "", "", ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			endings(t, func(t *testing.T, conv func(string) string) {
				raw := []byte(conv(tt.in))
				e, err := Parse(raw)
				if tt.wantErr != nil {
					if !errors.Is(err, tt.wantErr) {
						t.Fatalf("Parse error = %v, want %v", err, tt.wantErr)
					}
					return
				}
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				if got, want := string(e.Header), conv(tt.header); got != want {
					t.Errorf("Header = %q, want %q", got, want)
				}
				if got, want := string(e.Body), conv(tt.body); got != want {
					t.Errorf("Body = %q, want %q", got, want)
				}
				if got := e.Fields.Get("Subject"); got != tt.subject {
					t.Errorf("Subject = %q, want %q", got, tt.subject)
				}
				if !bytes.Equal(e.Raw, raw) {
					t.Errorf("Raw changed")
				}
			})
		})
	}
}

func TestParseBounds(t *testing.T) {
	many := strings.Repeat("X-A: b\n", MaxHeaderFields+1) + "\nbody"
	if _, err := Parse([]byte(many)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("too many fields: err = %v, want ErrTooLarge", err)
	}
	big := "X-A: " + strings.Repeat("a", MaxHeaderBytes) + "\n\nbody"
	if _, err := Parse([]byte(big)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("huge header: err = %v, want ErrTooLarge", err)
	}
	long := "X-A: " + strings.Repeat("a", 5000) + "\n\nbody"
	e, err := Parse([]byte(long))
	if err != nil {
		t.Fatalf("a 5000-byte header line must be accepted: %v", err)
	}
	if len(e.Fields.Get("X-A")) != 5000 {
		t.Errorf("long field value has %d bytes", len(e.Fields.Get("X-A")))
	}
}

func TestMediaType(t *testing.T) {
	tests := []struct {
		in, mt  string
		params  map[string]string
		wantErr bool
	}{
		{"Subject: x\n\n", "text/plain", map[string]string{"charset": "us-ascii"}, false},
		{"Content-Type: Multipart/Signed; Boundary=\"a b\"; micalg=pgp-sha256\n\n", "multipart/signed",
			map[string]string{"boundary": "a b", "micalg": "pgp-sha256"}, false},
		{"Content-Type: text/plain; charset\n\n", "text/plain", map[string]string{}, false},
		{"Content-Type: multipart/signed; protocol=\"application/pgp-signature\"; protected; \n\tboundary=\"a;b\"\n\n", "multipart/signed",
			map[string]string{"boundary": "a;b", "protocol": "application/pgp-signature"}, false},
		{"Content-Type: /\n\n", "", nil, true},
	}
	for _, tt := range tests {
		e, err := Parse([]byte(tt.in))
		if err != nil {
			t.Fatalf("Parse(%q): %v", tt.in, err)
		}
		mt, params, err := e.MediaType()
		if tt.wantErr {
			if !errors.Is(err, ErrMalformed) {
				t.Errorf("MediaType(%q) error = %v, want ErrMalformed", tt.in, err)
			}
			continue
		}
		if err != nil || mt != tt.mt || fmt.Sprint(params) != fmt.Sprint(tt.params) {
			t.Errorf("MediaType(%q) = %q %v %v, want %q %v", tt.in, mt, params, err, tt.mt, tt.params)
		}
	}
}

func TestSplitMultipart(t *testing.T) {
	tests := []struct {
		name, body string
		parts      []string
		wantErr    error
	}{
		{"plain", "--b\nA: 1\n\none\n--b\n\ntwo\n--b--\n", []string{"A: 1\n\none", "\ntwo"}, nil},
		{"preamble and epilogue", "pre\namble\n--b\n\none\n--b--\nepi\n--b\nlogue\n", []string{"\none"}, nil},
		{"whitespace after delimiters", "--b \t\n\none\n--b\t\n\ntwo\n--b--  \n", []string{"\none", "\ntwo"}, nil},
		{"close at end without newline", "--b\n\none\n--b--", []string{"\none"}, nil},
		{"trailing newline kept in part", "--b\n\none\n\n--b--\n", []string{"\none\n"}, nil},
		{"longer boundary is content", "--b\n\n--bx\n--b-x\n--b--\n", []string{"\n--bx\n--b-x"}, nil},
		{"mid-line boundary is content", "--b\n\nsee --b here\n--b--\n", []string{"\nsee --b here"}, nil},
		{"empty part", "--b\n--b\n\ntwo\n--b--\n", []string{"", "\ntwo"}, nil},
		{"truncated", "--b\n\none\n--b\n\ntwo\n", []string{"\none", "\ntwo\n"}, ErrTruncated},
		{"truncated close", "--b\n\none\n--b-\n", []string{"\none\n--b-\n"}, ErrTruncated},
		{"truncated after delimiter", "--b\n\none\n--b\n", []string{"\none"}, ErrTruncated},
		{"no delimiter", "just text\n", nil, ErrNoDelimiter},
		{"too many parts", strings.Repeat("--b\n\nx\n", 11) + "--b--\n", nil, ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			endings(t, func(t *testing.T, conv func(string) string) {
				parts, err := SplitMultipart([]byte(conv(tt.body)), "b", 10)
				if tt.wantErr != nil && tt.parts != nil {
					if !errors.Is(err, tt.wantErr) {
						t.Fatalf("error = %v, want %v", err, tt.wantErr)
					}
				} else if tt.wantErr != nil {
					if !errors.Is(err, tt.wantErr) {
						t.Fatalf("error = %v, want %v", err, tt.wantErr)
					}
					if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrTooLarge) {
						t.Errorf("error %v wraps neither ErrMalformed nor ErrTooLarge", err)
					}
					return
				}
				if err != nil && tt.wantErr == nil {
					t.Fatalf("SplitMultipart: %v", err)
				}
				if len(parts) != len(tt.parts) {
					t.Fatalf("got %d parts %q, want %d", len(parts), parts, len(tt.parts))
				}
				for i := range parts {
					if got, want := string(parts[i]), conv(tt.parts[i]); got != want {
						t.Errorf("part %d = %q, want %q", i, got, want)
					}
				}
			})
		})
	}
	if _, err := SplitMultipart([]byte("--\n--\n"), "", 10); !errors.Is(err, ErrMalformed) {
		t.Errorf("empty boundary: err = %v", err)
	}
}

func TestCanonical(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"a\nb\n", "a\r\nb\r\n"},
		{"a\r\nb\n", "a\r\nb\r\n"},
		{"\n\n", "\r\n\r\n"},
		{"a\rb\r\n", "a\rb\r\n"},
		{"no newline", "no newline"},
	}
	for _, tt := range tests {
		if got := string(Canonical([]byte(tt.in))); got != tt.want {
			t.Errorf("Canonical(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

const nested = `Content-Type: multipart/mixed; boundary=outer

preamble
--outer
Content-Type: multipart/signed; boundary="inner"; protocol="application/pgp-signature"

--inner
Content-Type: text/plain

signed text
--inner
Content-Type: application/pgp-signature

sig
--inner--
--outer
Content-Type: text/plain

footer
--outer--
`

func TestWalk(t *testing.T) {
	endings(t, func(t *testing.T, conv func(string) string) {
		e, err := Parse([]byte(conv(nested)))
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		err = Walk(e, 10, 100, func(path []int, p *Entity) error {
			mt, _, _ := p.MediaType()
			got = append(got, fmt.Sprintf("%v %s %q", path, mt, p.Body))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		want := []string{
			fmt.Sprintf("[] multipart/mixed %q", e.Body),
			fmt.Sprintf("[0] multipart/signed %q", conv("--inner\nContent-Type: text/plain\n\nsigned text\n--inner\nContent-Type: application/pgp-signature\n\nsig\n--inner--")),
			fmt.Sprintf("[0 0] text/plain %q", "signed text"),
			fmt.Sprintf("[0 1] application/pgp-signature %q", "sig"),
			fmt.Sprintf("[1] text/plain %q", "footer"),
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("walk:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		// SkipChildren leaves the signed part's children out.
		n := 0
		err = Walk(e, 10, 100, func(path []int, p *Entity) error {
			n++
			if mt, _, _ := p.MediaType(); mt == "multipart/signed" {
				return SkipChildren
			}
			return nil
		})
		if err != nil || n != 3 {
			t.Errorf("with SkipChildren: %d entities, err %v; want 3, nil", n, err)
		}
		// Too few parts allowed.
		if err := Walk(e, 10, 4, func([]int, *Entity) error { return nil }); !errors.Is(err, ErrTooLarge) {
			t.Errorf("maxParts 4: err = %v, want ErrTooLarge", err)
		}
		// Callback errors stop the walk.
		stop := errors.New("stop")
		if err := Walk(e, 10, 100, func([]int, *Entity) error { return stop }); !errors.Is(err, stop) {
			t.Errorf("callback error: got %v", err)
		}
	})
}

// deepNest returns a message of depth nested multiparts.
func deepNest(depth int) []byte {
	var b strings.Builder
	b.WriteString("Content-Type: multipart/mixed; boundary=b0\n\n")
	for i := 0; i < depth; i++ {
		fmt.Fprintf(&b, "--b%d\nContent-Type: multipart/mixed; boundary=b%d\n\n", i, i+1)
	}
	fmt.Fprintf(&b, "--b%d\n\nleaf\n--b%d--\n", depth, depth)
	for i := depth - 1; i >= 0; i-- {
		fmt.Fprintf(&b, "--b%d--\n", i)
	}
	return []byte(b.String())
}

func TestWalkDepth(t *testing.T) {
	e, err := Parse(deepNest(100))
	if err != nil {
		t.Fatal(err)
	}
	if err := Walk(e, 32, 1000, func([]int, *Entity) error { return nil }); !errors.Is(err, ErrTooLarge) {
		t.Errorf("100 deep with maxDepth 32: err = %v, want ErrTooLarge", err)
	}
	e, _ = Parse(deepNest(5))
	leaves := 0
	err = Walk(e, 32, 1000, func(path []int, p *Entity) error {
		if string(p.Body) == "leaf" {
			leaves++
			if len(path) != 6 {
				t.Errorf("leaf at depth %d, want 6", len(path))
			}
		}
		return nil
	})
	if err != nil || leaves != 1 {
		t.Errorf("5 deep: leaves %d err %v", leaves, err)
	}
}

func TestWalkTruncatedNested(t *testing.T) {
	msg := "Content-Type: multipart/mixed; boundary=a\n\n--a\nContent-Type: multipart/mixed; boundary=b\n\n--b\n\nx\n--a--\n"
	e, err := Parse([]byte(msg))
	if err != nil {
		t.Fatal(err)
	}
	if err := Walk(e, 10, 100, func([]int, *Entity) error { return nil }); !errors.Is(err, ErrTruncated) {
		t.Errorf("err = %v, want ErrTruncated", err)
	}
}
