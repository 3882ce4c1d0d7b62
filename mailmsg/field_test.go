package mailmsg

import (
	"bufio"
	"bytes"
	"errors"
	"mime"
	"net/mail"
	"net/textproto"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// checkOneField parses out (one header field) followed by an empty line and
// a body with net/mail and with Parse, and fails unless it holds exactly one
// field named name, no control character, no line over 998 bytes, and the
// body marker untouched. It returns the unfolded value net/mail reads.
func checkOneField(t *testing.T, out []byte, name string) string {
	t.Helper()
	for _, line := range bytes.SplitAfter(out, []byte("\r\n")) {
		l := bytes.TrimSuffix(line, []byte("\r\n"))
		if len(l) > MaxLineLength {
			t.Fatalf("line of %d bytes in %q", len(l), out)
		}
		for _, c := range l {
			if c < 0x20 || c == 0x7f {
				t.Fatalf("control character %#x in %q", c, out)
			}
		}
	}
	if !bytes.HasSuffix(out, []byte("\r\n")) {
		t.Fatalf("field does not end its line: %q", out)
	}
	raw := append(append([]byte(nil), out...), "\r\nBODY\r\n"...)
	m, err := Parse(raw)
	if err != nil {
		t.Fatalf("Parse(%q): %v", raw, err)
	}
	if len(m.Fields) != 1 || m.Fields[0].Name != name || string(m.Body) != "BODY\r\n" {
		t.Fatalf("Parse(%q): %d fields, first %q, body %q", raw, len(m.Fields), m.Fields[0].Name, m.Body)
	}
	if !tokenName(name) {
		return m.Fields[0].Value()
	}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("net/mail reads %q: %v", raw, err)
	}
	if len(msg.Header) != 1 || len(msg.Header[textproto.CanonicalMIMEHeaderKey(name)]) != 1 {
		t.Fatalf("net/mail reads %q: %v", raw, msg.Header)
	}
	tr := textproto.NewReader(bufio.NewReader(bytes.NewReader(raw)))
	h, err := tr.ReadMIMEHeader()
	if err != nil || len(h) != 1 {
		t.Fatalf("net/textproto reads %q: %v %v", raw, h, err)
	}
	return msg.Header.Get(name)
}

// tokenName reports whether name is an HTTP-style token, the only names
// net/textproto accepts.
func tokenName(name string) bool {
	for i := 0; i < len(name); i++ {
		if !strings.ContainsRune("!#$%&'*+-.^_`|~", rune(name[i])) &&
			!(name[i] >= '0' && name[i] <= '9') && !(name[i] >= 'a' && name[i] <= 'z') && !(name[i] >= 'A' && name[i] <= 'Z') {
			return false
		}
	}
	return name != ""
}

func TestWriteField(t *testing.T) {
	long := strings.Repeat("word ", 60)
	for _, tc := range []struct {
		desc, name, value, want string
		err                     error
	}{
		{"plain", "Subject", "hello", "Subject: hello\r\n", nil},
		{"CRLF and Bcc", "Subject", "hi\r\nBcc: victim@x\r\n\r\nbody", "Subject: hi Bcc: victim@x body\r\n", nil},
		{"bare CR", "In-Reply-To", "<a@b>\rBcc: x", "In-Reply-To: <a@b> Bcc: x\r\n", nil},
		{"bare LF", "To", "a@b\nCc: c@d", "To: a@b Cc: c@d\r\n", nil},
		{"NUL and DEL", "Subject", "a\x00b\x7fc", "Subject: a b c\r\n", nil},
		{"tabs and runs of spaces", "Subject", "\t a \t\t b  ", "Subject: a b\r\n", nil},
		{"C1 and separators", "Subject", "a\u0085b\u2028c\u2029d", "Subject: a b c d\r\n", nil},
		{"empty", "Subject", "", "Subject:\r\n", nil},
		{"folds at 78", "Subject", long, "", nil},
		{"name with space", "Bad Name", "x", "", ErrFieldName},
		{"name with colon", "Bcc:", "x", "", ErrFieldName},
		{"name with CRLF", "X\r\nBcc", "x", "", ErrFieldName},
		{"empty name", "", "x", "", ErrFieldName},
		{"name not ASCII", "Sübject", "x", "", ErrFieldName},
		{"word longer than a line", "X-Token", strings.Repeat("a", 998), "", ErrFieldLong},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			var b bytes.Buffer
			err := WriteField(&b, tc.name, tc.value, "\r\n")
			if tc.err != nil {
				if !errors.Is(err, tc.err) || b.Len() != 0 {
					t.Fatalf("WriteField = %v, wrote %q; want %v and nothing", err, b.Bytes(), tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.want != "" && b.String() != tc.want {
				t.Fatalf("WriteField = %q, want %q", b.String(), tc.want)
			}
			got := checkOneField(t, b.Bytes(), tc.name)
			if want := CleanValue(tc.value); got != want {
				t.Fatalf("value read back %q, want %q", got, want)
			}
			if tc.value == long {
				for _, l := range strings.Split(strings.TrimSuffix(b.String(), "\r\n"), "\r\n") {
					if len(l) > 78 {
						t.Fatalf("line of %d > 78 bytes: %q", len(l), l)
					}
				}
			}
		})
	}
}

func TestWriteFieldLongWordOnItsOwnLine(t *testing.T) {
	var b bytes.Buffer
	word := strings.Repeat("a", 990)
	if err := WriteField(&b, "References", "<x@y> "+word, "\n"); err != nil {
		t.Fatal(err)
	}
	if want := "References: <x@y>\n " + word + "\n"; b.String() != want {
		t.Fatalf("got %q", b.String())
	}
}

func TestEncodeText(t *testing.T) {
	dec := mime.WordDecoder{}
	for _, tc := range []struct{ desc, in, want string }{
		{"ASCII kept", "Re: hello there", "Re: hello there"},
		{"non-ASCII encoded", "Grüße", "=?utf-8?q?Gr=C3=BC=C3=9Fe?="},
		{"decoded CRLF is a space", "hi\r\nBcc: v@x\r\n\r\nbody", "hi Bcc: v@x body"},
		{"encoded-word lookalike is encoded", "=?utf-8?q?=0D=0ABcc:_x?=", ""},
		{"question-equals", "a ?= b", ""},
		{"invalid UTF-8", "a\xffb", "=?utf-8?q?a=EF=BF=BDb?="},
		{"long word", strings.Repeat("x", 200), ""},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			got := EncodeText(tc.in)
			if tc.want != "" && got != tc.want {
				t.Fatalf("EncodeText(%q) = %q, want %q", tc.in, got, tc.want)
			}
			for _, w := range strings.Fields(got) {
				if strings.HasPrefix(w, "=?") && len(w) > 75 {
					t.Fatalf("encoded word of %d > 75 characters: %q", len(w), w)
				}
			}
			back, err := dec.DecodeHeader(got)
			if err != nil || back != CleanValue(tc.in) {
				t.Fatalf("decoded %q (%v), want %q", back, err, CleanValue(tc.in))
			}
		})
	}
}

func TestFormatAddresses(t *testing.T) {
	for _, tc := range []struct {
		desc string
		in   []string
		want string
		bad  bool
	}{
		{"bare address", []string{"ann@x.test"}, "ann@x.test", false},
		{"angle address", []string{"<ann@x.test>"}, "ann@x.test", false},
		{"quoted local part", []string{`"a b"@x.test`}, `"a b"@x.test`, false},
		{"name quoted", []string{`Ann Smith <ann@x.test>`}, `"Ann Smith" <ann@x.test>`, false},
		{"specials quoted", []string{`"Smith, Ann" <ann@x.test>`}, `"Smith, Ann" <ann@x.test>`, false},
		{"encoded CRLF in name", []string{"=?utf-8?q?Eve=0D=0ABcc=3A_v=40x=0D=0A=0D=0Abody?= <eve@x.test>"}, `"Eve Bcc: v@x body" <eve@x.test>`, false},
		{"non-ASCII name", []string{"=?utf-8?q?J=C3=B6rg?= <j@x.test>"}, "=?utf-8?q?J=C3=B6rg?= <j@x.test>", false},
		{"several", []string{"a@x.test", "b@x.test, C <c@x.test>"}, `a@x.test, b@x.test, "C" <c@x.test>`, false},
		{"raw CRLF refused", []string{"a@x.test\r\nBcc: v@x"}, "", true},
		{"not an address", []string{"hello"}, "", true},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			got, err := FormatAddresses(tc.in...)
			if tc.bad {
				if err == nil {
					t.Fatalf("FormatAddresses(%q) = %q, want an error", tc.in, got)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("FormatAddresses(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			}
		})
	}
}

func TestFormatAddressCutsLongNames(t *testing.T) {
	got := FormatAddress(&mail.Address{Name: strings.Repeat("é", 300), Address: "a@x.test"})
	var b bytes.Buffer
	if err := WriteField(&b, "From", got, "\r\n"); err != nil {
		t.Fatal(err)
	}
	v := checkOneField(t, b.Bytes(), "From")
	a, err := ParseAddressList(v)
	if err != nil || len(a) != 1 || a[0].Address != "a@x.test" || len(a[0].Name) > maxDisplayName || !utf8.ValidString(a[0].Name) {
		t.Fatalf("read back %q: %v %v", v, a, err)
	}
}

func TestMsgIDs(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"<a@b>", "<a@b>"},
		{" <a@b> (comment) <c@d>", "<a@b> <c@d>"},
		{"<a@b>\r\nBcc: x@y", "<a@b>"},
		{"<a b@c>", ""},
		{"<a@b\rBcc: x>", ""},
		{"<no-at>", ""},
		{"<<a@b>", "<a@b>"},
		{"junk", ""},
		{"<é@b>", ""},
	} {
		if got := MsgIDs(tc.in); got != tc.want {
			t.Errorf("MsgIDs(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestHeaderWriter(t *testing.T) {
	h := NewHeaderWriter("\r\n")
	h.Address("From", "=?utf-8?q?Eve=0D=0ABcc=3A_v=40x?= <eve@x.test>")
	h.Address("To", "not an address\r\nBcc: v@x")
	h.Text("Subject", "hi\r\nBcc: victim@x\r\n\r\nbody")
	h.MsgID("In-Reply-To", "<id@x>\r\nBcc: v@x")
	h.Field("Bad Name", "x")
	raw := append(h.Bytes(), "\r\nBODY\r\n"...)
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if len(msg.Header) != 3 || msg.Header.Get("Bcc") != "" || msg.Header.Get("To") != "" {
		t.Fatalf("fields %v in %q", msg.Header, raw)
	}
	if got := msg.Header.Get("Subject"); got != "hi Bcc: victim@x body" {
		t.Fatalf("Subject %q", got)
	}
	if got := msg.Header.Get("In-Reply-To"); got != "<id@x>" {
		t.Fatalf("In-Reply-To %q", got)
	}
	if h.Err() == nil {
		t.Fatal("Err() = nil after refused fields")
	}
}

// TestAddedFieldsAreOneLine checks that fields added to a parsed message
// (as handlers add them to posts) are written by WriteField.
func TestAddedFieldsAreOneLine(t *testing.T) {
	m, err := Parse([]byte("From: a@b\r\nSubject: x\r\n\r\nbody\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	m.Set("Subject", "hi\r\nBcc: v@x\r\n\r\ninjected")
	m.Add("List-Id", "<l.x>\x00\rBcc: v@x")
	m.Prepend("Reply-To", "a@b\nCc: c@d")
	msg, err := mail.ReadMessage(bytes.NewReader(m.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if len(msg.Header) != 4 || msg.Header.Get("Bcc") != "" || msg.Header.Get("Cc") != "" {
		t.Fatalf("fields %v in %q", msg.Header, m.Bytes())
	}
	body := new(bytes.Buffer)
	body.ReadFrom(msg.Body)
	if body.String() != "body\r\n" {
		t.Fatalf("body %q", body.String())
	}
}

// FuzzWriteField checks that for any name and value WriteField either
// refuses (a name that is not ftext, a word longer than a line) and writes
// nothing, or writes exactly one field with that name, no control
// character and no line over 998 bytes, whose value net/mail reads back as
// the cleaned value; and that EncodeText's output decodes back to it.
func FuzzWriteField(f *testing.F) {
	f.Add("Subject", "hi\r\nBcc: victim@x\r\n\r\nbody")
	f.Add("Subject", "=?utf-8?q?hi=0D=0ABcc:_victim@x=0D=0A=0D=0Abody?=")
	f.Add("X-Loop", "\x00\x01\x7f\u0085\u2028")
	f.Add("From", "=?utf-8?q?Eve=0D=0ABcc=3A_v=40x?= <eve@x.test>")
	f.Add("Bad Name", "x")
	f.Add("Subject", strings.Repeat("é", 400))
	f.Add("In-Reply-To", "<a@b>\rBcc: x")
	f.Fuzz(func(t *testing.T, name, value string) {
		for _, mode := range []string{"field", "text", "address"} {
			v := value
			switch mode {
			case "text":
				v = EncodeText(value)
				back, err := (&mime.WordDecoder{}).DecodeHeader(v)
				if err != nil || back != CleanValue(value) {
					t.Fatalf("EncodeText(%q) = %q decodes to %q (%v)", value, v, back, err)
				}
			case "address":
				s, err := FormatAddresses(value)
				if err != nil {
					continue
				}
				v = s
			}
			var b bytes.Buffer
			err := WriteField(&b, name, v, "\r\n")
			if !ValidFieldName(name) {
				if err == nil || b.Len() != 0 {
					t.Fatalf("name %q accepted", name)
				}
				return
			}
			if err != nil {
				if !errors.Is(err, ErrFieldLong) || b.Len() != 0 {
					t.Fatalf("WriteField(%q, %q): %v, wrote %q", name, v, err, b.Bytes())
				}
				if mode == "text" {
					t.Fatalf("EncodeText output %q cannot be written: %v", v, err)
				}
				continue
			}
			got := checkOneField(t, b.Bytes(), name)
			if got != CleanValue(v) {
				t.Fatalf("%s %q: read back %q, want %q", mode, v, got, CleanValue(v))
			}
			for _, r := range got {
				if unicode.IsControl(r) {
					t.Fatalf("control %U in %q", r, got)
				}
			}
			if mode == "address" {
				if _, err := ParseAddressList(got); err != nil {
					t.Fatalf("address field %q does not parse back: %v", got, err)
				}
			}
		}
	})
}
