package web

import (
	"strings"
	"testing"
)

func TestRenderParts(t *testing.T) {
	for _, tc := range []struct {
		name, msg string
		want      []string // Type/Download per part
	}{
		{"plain", "Content-Type: text/plain; charset=utf-8\n\nhello\n", []string{"text/plain"}},
		{"no content type", "Subject: x\n\nhello\n", []string{"text/plain"}},
		{"html", "Content-Type: text/html\n\n<p>hi</p>\n", []string{"text/html"}},
		{"attachment", "Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nt\n--b\nContent-Type: application/pdf; name=a.pdf\n\n%PDF\n--b--\n", []string{"text/plain", "application/pdf download"}},
		{"nested", "Content-Type: multipart/mixed; boundary=a\n\n--a\nContent-Type: multipart/alternative; boundary=b\n\n--b\nContent-Type: text/plain\n\nt\n--b\nContent-Type: text/html\n\n<b>h</b>\n--b--\n--a--\n", []string{"text/plain", "text/html"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ps, err := renderParts([]byte(tc.msg))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range ps {
				s := p.Type
				if p.Download {
					s += " download"
				}
				got = append(got, s)
			}
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Fatalf("parts %v, want %v", got, tc.want)
			}
		})
	}
}

// TestRenderBounds: a message nested deeper than the bound, or with more
// parts, is refused with an error, not walked without end.
func TestRenderBounds(t *testing.T) {
	deep := ""
	for i := 0; i < maxRenderDepth+3; i++ {
		deep += "Content-Type: multipart/mixed; boundary=b" + string(rune('a'+i)) + "\n\n--b" + string(rune('a'+i)) + "\n"
	}
	deep += "Content-Type: text/plain\n\nx\n"
	if _, err := renderParts([]byte(deep)); err == nil {
		t.Fatal("a message nested past the bound rendered")
	}
	var many strings.Builder
	many.WriteString("Content-Type: multipart/mixed; boundary=b\n\n")
	for i := 0; i < maxRenderParts+5; i++ {
		many.WriteString("--b\nContent-Type: text/plain\n\nx\n")
	}
	many.WriteString("--b--\n")
	if _, err := renderParts([]byte(many.String())); err == nil {
		t.Fatal("a message with too many parts rendered")
	}
}

// FuzzRenderParts: no input makes the archive renderer panic or hang.
func FuzzRenderParts(f *testing.F) {
	f.Add([]byte("Subject: x\n\nhello\n"))
	f.Add([]byte("Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/html\n\n<script>x</script>\n--b--\n"))
	f.Add([]byte("Content-Type: multipart/mixed; boundary=\"\"\n\n--\n"))
	f.Add([]byte("Content-Type: text/plain; charset=unknown-8bit\nContent-Transfer-Encoding: base64\n\n!!!\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		ps, _ := renderParts(b)
		if len(ps) > maxRenderParts {
			t.Fatalf("%d parts", len(ps))
		}
	})
}
